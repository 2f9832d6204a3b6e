# AIOS_REQUIRE_PKG(VAR, PKG, DEBIAN-PACKAGE)
# Find PKG with pkg-config or fail naming the Debian package to install.
AC_DEFUN([AIOS_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found by pkg-config: install the Debian package '$3' (apt-get install $3)])])
])

# AX_AIOS_WARNINGS: -Wall -Wextra always; --enable-werror adds -Werror.
AC_DEFUN([AX_AIOS_WARNINGS], [
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
  WARN_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 -Wno-format-nonliteral"
  AS_IF([test "x$enable_werror" = xyes], [WARN_CFLAGS="$WARN_CFLAGS -Werror"])
  AC_SUBST([WARN_CFLAGS])
])

# AX_AIOS_SANITIZERS: --enable-sanitizers builds with ASan + UBSan.
AC_DEFUN([AX_AIOS_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_sanitizers=no])
  SAN_CFLAGS=""
  AS_IF([test "x$enable_sanitizers" = xyes],
    [SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"])
  AC_SUBST([SAN_CFLAGS])
  AM_CONDITIONAL([SANITIZERS], [test "x$enable_sanitizers" = xyes])
])
