#!/usr/bin/env bash
# The one place that knows how connector plugins are compiled to WebAssembly here.
#   scripts/wasm-toolchain.sh install  - make sure a wasm toolchain exists (CI and README run it)
#   scripts/wasm-toolchain.sh detect   - print the toolchain host/build.rs should use
# Preferred: rustup's wasm32-wasip2 target (emits components directly). Fallback, verified
# offline: Debian's rustc-web + rust-web-src + lld-22, building wasm32-unknown-unknown with
# build-std, componentized by host/build.rs (see ../shared/toolchain.md).
set -euo pipefail

have_wasip2() {
    command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2
}
have_debian() {
    [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] && command -v wasm-ld-22 >/dev/null 2>&1
}

case "${1:-detect}" in
detect)
    if have_wasip2; then
        echo "mode=wasip2"
    elif have_debian; then
        echo "mode=debian"
        echo "rustc=/usr/bin/rustc"
        echo "linker=$(command -v wasm-ld-22)"
    else
        echo "no WebAssembly toolchain for the connector plugins; run: bash scripts/wasm-toolchain.sh install" >&2
        exit 1
    fi
    ;;
install)
    if have_wasip2; then
        echo "wasm toolchain: rustup target wasm32-wasip2 (already installed)"
        exit 0
    fi
    if command -v rustup >/dev/null 2>&1 && timeout 90 rustup target add wasm32-wasip2; then
        echo "wasm toolchain: rustup target wasm32-wasip2 (installed now)"
        exit 0
    fi
    if have_debian; then
        echo "wasm toolchain: Debian rustc-web fallback (already installed)"
        exit 0
    fi
    echo "rustup could not add wasm32-wasip2; installing Debian's offline fallback (rustc-web rust-web-src lld-22)"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq rustc-web rust-web-src lld-22
    have_debian || { echo "the Debian fallback did not install cleanly" >&2; exit 1; }
    echo "wasm toolchain: Debian rustc-web fallback (installed now)"
    ;;
*)
    echo "usage: $0 install|detect" >&2
    exit 2
    ;;
esac
