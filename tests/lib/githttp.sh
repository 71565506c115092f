# git's own git-http-backend behind Debian's lighttpd on a free loopback port, with basic auth,
# for the git write-back suites. Source after tests/lib/tap.sh, then:
#   githttp_start ROOT USER TOKEN   serve the bare repositories under ROOT at $GITHTTP_URL
#                                   (http://127.0.0.1:PORT/git/<repo>.git); every request needs
#                                   USER:TOKEN. Stopped at exit (at_exit), even when the suite fails.
#   githttp_stop                    stop it now
# GITHTTP_BACKEND, when set, is the CGI lighttpd runs instead of git-http-backend (a script
# that misbehaves on purpose, then execs the real one).
GITHTTP_PID=""
GITHTTP_URL=""

githttp_start() {
    need lighttpd htpasswd curl git
    _gh_root=$1
    _gh_user=$2
    _gh_token=$3
    _gh_dir=$TAP_TMP/githttp
    mkdir -p "$_gh_dir/www"
    htpasswd -bcs "$_gh_dir/htpasswd" "$_gh_user" "$_gh_token" 2>/dev/null || return 1
    _gh_port=$(free_port)
    cat >"$_gh_dir/lighttpd.conf" <<CONF
server.modules = ("mod_auth", "mod_authn_file", "mod_cgi", "mod_alias", "mod_setenv")
server.document-root = "$_gh_dir/www"
server.bind = "127.0.0.1"
server.port = $_gh_port
server.errorlog = "$_gh_dir/error.log"
alias.url = ("/git" => "${GITHTTP_BACKEND:-/usr/lib/git-core/git-http-backend}")
\$HTTP["url"] =~ "^/git" {
    cgi.assign = ("" => "")
    setenv.add-environment = ("GIT_PROJECT_ROOT" => "$_gh_root", "GIT_HTTP_EXPORT_ALL" => "")
}
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "$_gh_dir/htpasswd"
auth.require = ("/git" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
CONF
    lighttpd -D -f "$_gh_dir/lighttpd.conf" >"$_gh_dir/stdout.log" 2>&1 &
    GITHTTP_PID=$!
    at_exit githttp_stop
    GITHTTP_URL=http://127.0.0.1:$_gh_port/git
    for _ in $(seq 50); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$GITHTTP_URL/" 2>/dev/null)
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        sleep 0.1
    done
    echo "# lighttpd did not start: $(tail -3 "$_gh_dir/error.log" "$_gh_dir/stdout.log" 2>/dev/null)"
    return 1
}

githttp_stop() {
    if [ -n "$GITHTTP_PID" ]; then
        kill "$GITHTTP_PID" 2>/dev/null
        wait "$GITHTTP_PID" 2>/dev/null
        GITHTTP_PID=""
    fi
}
