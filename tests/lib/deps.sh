#!/bin/sh
# Make sure what tagpilot needs is installed, installing the missing Debian packages with apt-get
# when run as root. Usage: deps.sh build|check|fuzz|demo|bench
#   build: the libraries (found through pkg-config) and a C compiler
#   fuzz:  build + clang with libFuzzer (the fuzz targets, tests/fuzz/)
#   check: build + fuzz + Criterion and the real services the tests start
#   demo:  build + the registry, git, tmux and the stand-in cluster the demo starts
#   bench: check + skopeo
set -eu
mode=${1:-build}
missing=""

need_pc() { # pkg-config-name debian-package
    pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_cmd() { # command debian-package
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
need_cmd cc gcc
need_cmd make make
need_pc ncursesw libncurses-dev
need_pc libcurl libcurl4-openssl-dev
need_pc libcjson libcjson-dev
need_pc libgit2 libgit2-dev
need_pc yaml-0.1 libyaml-dev
need_pc libpcre2-8 libpcre2-dev
need_pc libcrypto libssl-dev
# clang, and the runtime -fsanitize=fuzzer links (Debian ships it apart from the compiler)
need_fuzzer() {
    if ! command -v clang >/dev/null 2>&1; then
        missing="$missing clang libclang-rt-dev"
        return
    fi
    probe=$(mktemp -d)
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)(d && n) * 0; }\n' \
        >"$probe/probe.c"
    clang -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" >/dev/null 2>&1 ||
        missing="$missing libclang-rt-dev"
    rm -rf "$probe"
}
case $mode in
check | bench | fuzz) need_fuzzer ;;
esac
case $mode in
check | bench)
    need_pc criterion libcriterion-dev
    need_cmd docker-registry docker-registry
    need_cmd lighttpd lighttpd
    need_cmd tmux tmux
    need_cmd git git
    need_cmd openssl openssl
    need_cmd htpasswd apache2-utils
    need_cmd curl curl
    [ -x /usr/bin/python3 ] || missing="$missing python3"
    /usr/bin/python3 -c 'import yaml' 2>/dev/null || missing="$missing python3-yaml"
    # the registry suites: a token issuer signing JWTs, digests cross-checked, JSON read
    /usr/bin/python3 -c 'import cryptography' 2>/dev/null || missing="$missing python3-cryptography"
    need_cmd skopeo skopeo
    need_cmd jq jq
    # the real client the Kubernetes stand-in (tests/lib/kubeapi.py) is held to
    need_cmd kubectl kubernetes-client
    need_cmd strace strace
    need_cmd promtool prometheus
    [ -x /usr/lib/git-core/git-http-backend ] || missing="$missing git"
    # sshd for the git-over-SSH write-back suite (ssh-keygen and ssh-agent come with it)
    [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
    # a locale with a decimal comma, compiled by the state-file tests (localedef)
    [ -f /usr/share/i18n/locales/de_DE ] || missing="$missing locales"
    ;;
esac
case $mode in
bench) need_cmd skopeo skopeo ;;
demo)
    need_cmd docker-registry docker-registry
    need_cmd git git
    need_cmd tmux tmux
    # the demo's cluster: the stand-in API server over TLS, and kubectl to look at it
    need_cmd openssl openssl
    need_cmd curl curl
    need_cmd kubectl kubernetes-client
    [ -x /usr/bin/python3 ] || missing="$missing python3"
    /usr/bin/python3 -c 'import yaml' 2>/dev/null || missing="$missing python3-yaml"
    [ -x /usr/bin/python3 ] || missing="$missing python3"
    ;;
esac

# pkg-config may be missing itself, in which case every library looks missing: keep the list unique.
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
[ -z "${missing# }" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "tagpilot needs these Debian packages: $missing" >&2
    echo "install them as root: apt-get install $missing" >&2
    exit 1
fi
echo "installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An out-of-date package list makes installs fail on a fresh machine: refresh it once.
apt-get update -qq >&2 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
