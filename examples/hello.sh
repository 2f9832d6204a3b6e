#!/bin/sh
#AIOS --job-name=hello
#AIOS --nodes=2
#AIOS --ntasks=4
#AIOS --time=5:00
#AIOS --output=hello-%j.out
# The demo job: runs on the first of its nodes, as you, in the directory it
# was submitted from.
echo "Hello from job $AIOS_JOB_ID ($AIOS_JOB_NAME) on $AIOS_NODENAME"
echo "allocated nodes: $AIOS_JOB_NODELIST ($AIOS_NNODES nodes, $AIOS_NTASKS tasks)"
echo "CPUs on this node: $AIOS_CPUS_ON_NODE"
echo "running as: $(id -un)"
