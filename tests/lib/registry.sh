# Real registries for the shell suites. Source after tests/lib/tap.sh.
#
#   registry_start MODE   start Debian's docker-registry (distribution 2.8) on a free loopback
#                         port; MODE is one of
#                           anon   no auth, plain HTTP
#                           basic  htpasswd basic auth (user tagpilot / $REG_PASS)
#                           tls    HTTPS with a CA made here ($REG_CA), no auth
#                           token  bearer tokens from tests/lib/tokenissuer.py; anonymous pulls
#                                  allowed under public/ only
#                         and sets REG_HOST (127.0.0.1:PORT), REG_URL, REG_DIR, REG_CREDS
#                         ("user:pass" or empty), REG_CA (tls only), REG_TOKEN_LOG (token only).
#                         Stopped at exit, even when the suite fails.
#   reg_push ARGS...      tests/lib/regpush.py against the last started registry
#   reg_conf FILE [LINES] write a registries.conf for it (extra YAML lines appended to the entry)
#   fault_start [OPTIONS] start tests/lib/faultserver.py (OPTIONS: --log FILE, --foreign URL,
#                         --plain, --tls CERT KEY); sets FAULT_HOST (127.0.0.1:PORT) and
#                         FAULT_URL (http:// or https://). Call it again for a second server.
#   tls_certs DIR         a CA (DIR/ca.crt) and a certificate for 127.0.0.1 signed by it
#                         (DIR/server.crt, DIR/server.key)
#   REG_ACCESS_LOG_OFF=false before registry_start: one access-log line per request in
#                         $REG_DIR/registry.log (to count what tagpilot sends)
PY=/usr/bin/python3
REG_LIB=$TP_ROOT/tests/lib

# wait_http URL [curl options]: until the server answers at all (any status), up to 15 s
wait_http() {
    url=$1
    shift
    i=0
    while [ $i -lt 150 ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" 2>/dev/null)
        case $code in 000 | "") ;; *) return 0 ;; esac
        sleep 0.1
        i=$((i + 1))
    done
    echo "# $url did not come up" >&2
    return 1
}

tls_certs() {
    (
        cd "$1" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca.key -out ca.crt -days 2 -subj /CN=tagpilot-test-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out server.crt -days 2 -extfile ext 2>/dev/null
    )
}

registry_start() {
    need docker-registry curl openssl htpasswd jq
    mode=$1
    REG_PORT=$(free_port)
    REG_HOST=127.0.0.1:$REG_PORT
    REG_DIR=$TAP_TMP/registry-$mode-$REG_PORT
    REG_CREDS=""
    REG_CA=""
    REG_TOKEN_LOG=""
    mkdir -p "$REG_DIR/data"
    scheme=http
    auth=""
    tls=""
    case $mode in
    anon) ;;
    basic)
        REG_PASS=s3cret-$REG_PORT
        REG_CREDS=tagpilot:$REG_PASS
        htpasswd -Bbc "$REG_DIR/htpasswd" tagpilot "$REG_PASS" 2>/dev/null
        auth="auth:
  htpasswd:
    realm: tagpilot-test
    path: $REG_DIR/htpasswd"
        ;;
    tls)
        scheme=https
        REG_CA=$REG_DIR/ca.crt
        tls_certs "$REG_DIR"
        tls="  tls:
    certificate: $REG_DIR/server.crt
    key: $REG_DIR/server.key"
        ;;
    token)
        REG_PASS=t0ken-$REG_PORT
        REG_CREDS=tagpilot:$REG_PASS
        tport=$(free_port)
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$REG_DIR/token.key" \
            -out "$REG_DIR/token.crt" -days 2 -subj /CN=tagpilot-test-issuer 2>/dev/null
        REG_TOKEN_LOG=$REG_DIR/token.log
        $PY "$REG_LIB/tokenissuer.py" "$tport" "$REG_DIR/token.key" "$REG_DIR/token.crt" \
            tagpilot-test-issuer tagpilot-test "$REG_CREDS" >"$REG_TOKEN_LOG" 2>&1 &
        at_exit "kill $! 2>/dev/null"
        wait_http "http://127.0.0.1:$tport/token" || return 1
        auth="auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: tagpilot-test
    issuer: tagpilot-test-issuer
    rootcertbundle: $REG_DIR/token.crt"
        ;;
    *)
        echo "registry_start: unknown mode $mode" >&2
        return 1
        ;;
    esac
    REG_URL=$scheme://$REG_HOST
    cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: ${REG_ACCESS_LOG_OFF:-true}
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $REG_HOST
  secret: tagpilot-test-secret
$tls
$auth
EOF
    docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/registry.log" 2>&1 &
    REG_PID=$!
    at_exit "kill $! 2>/dev/null"
    if [ -n "$REG_CA" ]; then
        wait_http "$REG_URL/v2/" --cacert "$REG_CA" || { cat "$REG_DIR/registry.log" >&2; return 1; }
    else
        wait_http "$REG_URL/v2/" || { cat "$REG_DIR/registry.log" >&2; return 1; }
    fi
}

# The registry down (registry_stop) and up again on the same address and storage.
registry_stop() {
    kill "$REG_PID" 2>/dev/null
    wait "$REG_PID" 2>/dev/null
    return 0
}
registry_restart() {
    docker-registry serve "$REG_DIR/config.yml" >>"$REG_DIR/registry.log" 2>&1 &
    REG_PID=$!
    at_exit "kill $! 2>/dev/null"
    wait_http "$REG_URL/v2/" ${REG_CA:+--cacert "$REG_CA"}
}

reg_push() {
    set -- "$REG_URL" ${REG_CREDS:+--creds "$REG_CREDS"} ${REG_CA:+--ca "$REG_CA"} "$@"
    $PY "$REG_LIB/regpush.py" "$@"
}

reg_conf() {
    file=$1
    shift
    {
        echo "registries:"
        echo "- name: test $REG_HOST"
        echo "  prefix: $REG_HOST"
        echo "  api_url: $REG_URL"
        for line in "$@"; do echo "  $line"; done
    } >"$file"
}

fault_start() {
    FAULT_PORT=$(free_port)
    FAULT_HOST=127.0.0.1:$FAULT_PORT
    FAULT_URL=http://$FAULT_HOST
    case " $* " in *" --tls "*) FAULT_URL=https://$FAULT_HOST ;; esac
    $PY "$REG_LIB/faultserver.py" "$FAULT_PORT" "$@" >"$TAP_TMP/fault-$FAULT_PORT.log" 2>&1 &
    at_exit "kill $! 2>/dev/null"
    wait_http "$FAULT_URL/v2/" --insecure
}
