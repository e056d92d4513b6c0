/* run: the controller process. Loads the Kubernetes config (--kubeconfig / $KUBECONFIG, else
 * in-cluster), serves /healthz, /readyz and /metrics, optionally waits to become leader, then
 * watches ClairDeployments and the objects they own and reconciles them from a work queue with
 * two workers. Returns the process exit code: 0 after SIGTERM/SIGINT, 1 on a fatal error
 * (no config, lost leadership). */
#ifndef CONTROLLER_RUN_H
#define CONTROLLER_RUN_H

#include "controller/options.h"

int controller_run(const struct controller_options *o);

#endif
