/* client.c - blocking client of aiosctld */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "auth.h"
#include "client.h"
#include "frame.h"
#include "proto.h"

struct aios_client {
    int fd;
    json_int_t seq;
    char peer[256];
    char *cluster;
    char *user;
};

void aios_client_close (struct aios_client *c)
{
    int saved = errno;

    if (c) {
        if (c->fd >= 0)
            close (c->fd);
        free (c->cluster);
        free (c->user);
        free (c);
    }
    errno = saved;
}

static int connect_unix (const char *path, aios_error_t *err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (strlen (path) >= sizeof (sun.sun_path)) {
        errno = ENAMETOOLONG;
        return errprintf (err, "socket path too long: %s", path);
    }
    strcpy (sun.sun_path, path);
    if ((fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return errprintf (err, "socket: %s", strerror (errno));
    if (connect (fd, (struct sockaddr *)&sun, sizeof (sun)) < 0) {
        int saved = errno;
        close (fd);
        errno = saved;
        return errprintf (err, "cannot connect to aiosctld at %s: %s", path,
                          strerror (errno));
    }
    return fd;
}

static int connect_tcp (const char *host, int port, aios_error_t *err)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res, *ai;
    char service[16];
    int fd = -1, e, one = 1, saved = 0;

    snprintf (service, sizeof (service), "%d", port);
    if ((e = getaddrinfo (host, service, &hints, &res)) != 0) {
        errno = EHOSTUNREACH;
        return errprintf (err, "cannot resolve controller address %s: %s",
                          host, gai_strerror (e));
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close (fd);
        fd = -1;
    }
    freeaddrinfo (res);
    if (fd < 0) {
        errno = saved ? saved : ECONNREFUSED;
        return errprintf (err, "cannot connect to aiosctld at %s:%d: %s",
                          host, port, strerror (errno));
    }
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    return fd;
}

static int hello (struct aios_client *c, const struct aios_conf *conf,
                  bool tcp, aios_error_t *err)
{
    json_t *req, *rep;
    const char *cluster = NULL, *user = NULL;
    int version;

    if (!(req = proto_request ("hello", 0)))
        goto nomem;
    if (json_object_set_new (req, "version", json_integer (AIOS_PROTO_VERSION)) < 0
        || json_object_set_new (req, "role", json_string ("client")) < 0)
        goto nomem_req;
    if (tcp) {
        struct auth *auth = auth_create (conf->munge_socket, err);
        char *cred;
        if (!auth)
            goto error_req;
        cred = auth_encode (auth, "", err);
        auth_destroy (auth);
        if (!cred)
            goto error_req;
        json_object_set_new (req, "cred", json_string (cred));
        free (cred);
    }
    if (!(rep = aios_client_rpc (c, req, err)))
        return -1;
    if (proto_unpack (rep, err, "hello reply", "{s:i s?s s?s}", "version",
                      &version, "cluster", &cluster, "user", &user) < 0) {
        json_decref (rep);
        return -1;
    }
    c->cluster = strdup (cluster ? cluster : "");
    c->user = strdup (user ? user : "");
    json_decref (rep);
    if (!c->cluster || !c->user)
        goto nomem;
    return 0;
nomem_req:
    json_decref (req);
nomem:
    errno = ENOMEM;
    return errprintf (err, "out of memory");
error_req:
    json_decref (req);
    return -1;
}

struct aios_client *aios_client_connect (const struct aios_conf *conf,
                                         aios_error_t *err)
{
    struct aios_client *c;
    const char *sock = getenv ("AIOS_SOCKET");
    bool tcp = false;

    if (!(c = calloc (1, sizeof (*c)))) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    c->fd = -1;
    if (sock && *sock == '\0')
        sock = NULL;
    if (sock && strcmp (sock, "tcp") == 0) {
        tcp = true;
    }
    else if (!sock) {
        if (!conf) {
            errno = EINVAL;
            errprintf (err, "no configuration and AIOS_SOCKET is not set");
            goto error;
        }
        sock = conf->ctl_socket;
        if (access (sock, F_OK) < 0 && errno == ENOENT)
            tcp = true; /* not on the controller's host: go over TCP */
    }
    if (tcp) {
        if (!conf) {
            errno = EINVAL;
            errprintf (err, "AIOS_SOCKET=tcp needs a configuration (AIOS_CONF)");
            goto error;
        }
        snprintf (c->peer, sizeof (c->peer), "%s:%d", conf->ctl_address,
                  conf->ctl_port);
        c->fd = connect_tcp (conf->ctl_address, conf->ctl_port, err);
    }
    else {
        snprintf (c->peer, sizeof (c->peer), "%s", sock);
        c->fd = connect_unix (sock, err);
    }
    if (c->fd < 0 || hello (c, conf, tcp, err) < 0)
        goto error;
    return c;
error:
    aios_client_close (c);
    return NULL;
}

struct aios_client *aios_client_connect_node (const struct aios_conf *conf,
                                              const char *node,
                                              aios_error_t *err)
{
    const struct conf_node *cn = conf_node_lookup (conf, node);
    struct aios_client *c;
    size_t i;

    for (i = 0; !cn && i < conf->nnodes; i++)
        if (!strcmp (conf->nodes[i].address, node))
            cn = &conf->nodes[i];
    if (!cn) {
        errno = ENOENT;
        errprintf (err, "unknown node \"%s\" (not in %s)", node, conf->path);
        return NULL;
    }
    if (!(c = calloc (1, sizeof (*c)))) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    snprintf (c->peer, sizeof (c->peer), "%s (%s:%d)", cn->name, cn->address,
              conf->node_port);
    if ((c->fd = connect_tcp (cn->address, conf->node_port, err)) < 0
        || hello (c, conf, true, err) < 0) {
        errprefix (err, "node %s", cn->name);
        aios_client_close (c);
        return NULL;
    }
    return c;
}

int aios_client_fd (const struct aios_client *c)
{
    return c->fd;
}

int aios_client_send (struct aios_client *c, json_t *req, aios_error_t *err)
{
    int rc;

    if (!req) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    json_object_set_new (req, "seq", json_integer (c->seq++));
    rc = frame_write_fd (c->fd, req, FRAME_MAX_REQUEST, err);
    json_decref (req);
    if (rc < 0)
        return errprefix (err, "sending to aiosctld at %s", c->peer);
    return 0;
}

json_t *aios_client_recv (struct aios_client *c, aios_error_t *err)
{
    json_t *rep = frame_read_fd (c->fd, FRAME_MAX_REPLY, err);

    if (!rep) {
        errprefix (err, "aiosctld at %s", c->peer);
        return NULL;
    }
    if (proto_reply_check (rep, err) < 0) {
        json_decref (rep);
        return NULL;
    }
    return rep;
}

json_t *aios_client_rpc (struct aios_client *c, json_t *req, aios_error_t *err)
{
    if (aios_client_send (c, req, err) < 0)
        return NULL;
    return aios_client_recv (c, err);
}

const char *aios_client_cluster (const struct aios_client *c)
{
    return c->cluster;
}

const char *aios_client_user (const struct aios_client *c)
{
    return c->user;
}

const char *aios_client_peer (const struct aios_client *c)
{
    return c->peer;
}
