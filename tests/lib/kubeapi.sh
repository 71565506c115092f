# The stand-in Kubernetes API server (tests/lib/kubeapi.py) for the shell suites. Source after
# tests/lib/tap.sh.
#
#   kubeapi_start DIR [kubeapi.py options...]
#       makes a CA, a server certificate for 127.0.0.1 and a client certificate for user
#       "admin" (DIR/ca.crt, DIR/admin.crt, DIR/admin.key), a token for "admin" and a control
#       token, the rules "admin * * *" (DIR/rules), and starts the stand-in over HTTPS on a free
#       loopback port with DIR/state.json as its store (options: --seed FILE, --var NAME=VALUE,
#       --bookmark-seconds S, ...). Writes DIR/kubeconfig: contexts "token" (the current one;
#       user "admin-token") and "cert" (user "admin-cert"), cluster "standin". Sets
#       KUBEAPI_DIR, KUBEAPI_PORT, KUBEAPI_URL, KUBEAPI_CA, KUBEAPI_TOKEN (admin's),
#       KUBEAPI_CONFIG (the kubeconfig), KUBEAPI_LOG (one JSON line per request). Stopped at
#       exit, even when the suite fails. Returns 1 (with a line on stderr) if it did not come up.
#   kubeapi_stop          stop it; DIR/state.json keeps the objects and the resourceVersion
#   kubeapi_restart       start it again on the same port with the same options and state
#   kubeapi_token TOKEN USER [SECONDS]   add a bearer token for USER, valid SECONDS from now
#                                        (default: no expiry)
#   kubeapi_allow USER NAMESPACE RESOURCE VERBS   add a rule (see kubeapi.py); rules and tokens
#                                                 are read on every request
#   kubeapi_ctl OP [QUERY] [curl options]   POST /_control/OP?QUERY (stdin or curl's --data-binary
#                                           gives the body); prints the answer
#   kubeapi_apply FILE...  create or replace the objects in FILEs (YAML or JSON; ${NAME} from
#                          the --var options) as another writer
#   kubeapi_merge PATH JSON   merge-patch the object at the API path PATH as another writer
#   kubeapi_race PATH JSON    another writer merge-patches the object at PATH just before the
#                             next PATCH of it is served (that PATCH then meets a 409)
#   kubeapi_api PATH [curl options]   an API request as the control user (may do anything)
#   kubeapi_kubeconfig FILE USER-YAML   a kubeconfig for the stand-in whose only user entry
#                                       (named "u") is USER-YAML (indented under "user:")
KUBEAPI_PY=${KUBEAPI_PY:-$TP_ROOT/tests/lib/kubeapi.py}
KUBEAPI_PID=""

kubeapi_certs() { # DIR
    (
        cd "$1" || exit 1
        ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        # shellcheck disable=SC2086
        openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=kubeapi-test-ca \
            2>/dev/null &&
            openssl req $ec -keyout server.key -out server.csr -subj /CN=kube-apiserver \
                2>/dev/null &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out server.crt -days 2 -extfile server.ext 2>/dev/null &&
            openssl req $ec -keyout admin.key -out admin.csr -subj /O=system:masters/CN=admin \
                2>/dev/null &&
            printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >client.ext &&
            openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out admin.crt -days 2 -extfile client.ext 2>/dev/null
    )
}

kubeapi_token() { # TOKEN USER [SECONDS]
    if [ -n "${3:-}" ]; then
        echo "$1 $2 $(($(date +%s) + $3))" >>"$KUBEAPI_DIR/tokens"
    else
        echo "$1 $2" >>"$KUBEAPI_DIR/tokens"
    fi
}

kubeapi_allow() { # USER NAMESPACE RESOURCE VERBS
    echo "$1 $2 $3 $4" >>"$KUBEAPI_DIR/rules"
}

kubeapi_run() {
    /usr/bin/python3 "$KUBEAPI_PY" --port "$KUBEAPI_PORT" \
        --tls "$KUBEAPI_DIR/server.crt" "$KUBEAPI_DIR/server.key" --client-ca "$KUBEAPI_CA" \
        --tokens "$KUBEAPI_DIR/tokens" --rules "$KUBEAPI_DIR/rules" \
        --control-token "$(cat "$KUBEAPI_DIR/control.token")" \
        --state "$KUBEAPI_DIR/state.json" --log "$KUBEAPI_LOG" "$@" \
        >>"$KUBEAPI_DIR/server.out" 2>&1 &
    KUBEAPI_PID=$!
    i=0
    while [ $i -lt 150 ]; do
        if curl -s -o /dev/null --max-time 1 --cacert "$KUBEAPI_CA" "$KUBEAPI_URL/readyz"; then
            return 0
        fi
        kill -0 "$KUBEAPI_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "# kubeapi did not come up: $(tail -3 "$KUBEAPI_DIR/server.out")" >&2
    return 1
}

kubeapi_start() { # DIR [options]
    need openssl curl
    KUBEAPI_DIR=$1
    shift
    mkdir -p "$KUBEAPI_DIR"
    KUBEAPI_PORT=$(free_port)
    KUBEAPI_URL=https://127.0.0.1:$KUBEAPI_PORT
    KUBEAPI_CA=$KUBEAPI_DIR/ca.crt
    KUBEAPI_LOG=$KUBEAPI_DIR/requests.jsonl
    KUBEAPI_CONFIG=$KUBEAPI_DIR/kubeconfig
    kubeapi_certs "$KUBEAPI_DIR" || {
        echo "# kubeapi: openssl could not make the certificates" >&2
        return 1
    }
    KUBEAPI_TOKEN=admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$KUBEAPI_DIR/control.token"
    : >"$KUBEAPI_DIR/tokens"
    : >"$KUBEAPI_DIR/rules"
    kubeapi_token "$KUBEAPI_TOKEN" admin
    kubeapi_allow admin '*' '*' '*'
    : >"$KUBEAPI_LOG"
    # kept for kubeapi_restart (options hold no spaces in our suites)
    echo "$*" >"$KUBEAPI_DIR/options"
    cat >"$KUBEAPI_CONFIG" <<Y
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: $KUBEAPI_URL
    certificate-authority: $KUBEAPI_CA
users:
- name: admin-token
  user:
    token: $KUBEAPI_TOKEN
- name: admin-cert
  user:
    client-certificate: $KUBEAPI_DIR/admin.crt
    client-key: $KUBEAPI_DIR/admin.key
contexts:
- name: token
  context: {cluster: standin, user: admin-token}
- name: cert
  context: {cluster: standin, user: admin-cert}
current-context: token
Y
    at_exit kubeapi_stop
    kubeapi_run "$@"
}

kubeapi_stop() {
    [ -n "$KUBEAPI_PID" ] || return 0
    kill "$KUBEAPI_PID" 2>/dev/null
    wait "$KUBEAPI_PID" 2>/dev/null
    KUBEAPI_PID=""
}

kubeapi_restart() {
    kubeapi_stop
    # shellcheck disable=SC2046
    kubeapi_run $(cat "$KUBEAPI_DIR/options")
}

kubeapi_ctl() { # OP [QUERY] [curl options]
    op=$1 query=${2:-}
    shift
    [ $# -gt 0 ] && shift
    curl -s --cacert "$KUBEAPI_CA" -H "Authorization: Bearer $(cat "$KUBEAPI_DIR/control.token")" \
        -X POST "$@" "$KUBEAPI_URL/_control/$op${query:+?$query}"
}

kubeapi_apply() { # FILE...
    for f in "$@"; do
        kubeapi_ctl apply "" --data-binary "@$f" >/dev/null || return 1
    done
}

kubeapi_merge() { # PATH JSON
    kubeapi_ctl merge "path=$1" --data-binary "$2"
}

kubeapi_api() { # PATH [curl options]
    path=$1
    shift
    curl -s --cacert "$KUBEAPI_CA" -H "Authorization: Bearer $(cat "$KUBEAPI_DIR/control.token")" \
        "$@" "$KUBEAPI_URL$path"
}

kubeapi_kubeconfig() { # FILE USER-YAML
    {
        cat <<Y
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: $KUBEAPI_URL
    certificate-authority: $KUBEAPI_CA
users:
- name: u
  user:
Y
        printf '%s\n' "$2" | sed 's/^/    /'
        cat <<Y
contexts:
- name: standin
  context: {cluster: standin, user: u}
current-context: standin
Y
    } >"$1"
}

kubeapi_race() { # PATH JSON
    kubeapi_ctl race "path=$1" --data-binary "$2"
}
