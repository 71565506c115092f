/* cli_attach: a console or command uses the config's `tagpilot serve` when one answers. */
#include "cli.h"

#include <stdlib.h>

#include "config.h"

engine *cli_attach(const tp_config *cfg, const engine_options *eo, bool reconnect, tp_err *err)
{
    err->msg[0] = '\0';
    tp_err quiet = {{0}};
    char *sock = config_serve_socket(cfg, &quiet);
    if (!sock)
        return NULL; /* nowhere to look: no server */
    engine *e = engine_attach(eo, sock, reconnect, err);
    free(sock);
    return e;
}
