//! Builds the connector plugins in `plugins/` to WebAssembly components, so a plain
//! `cargo build` / `cargo test` has them: the toolchain comes from
//! `scripts/wasm-toolchain.sh detect`; with Debian's fallback toolchain the core modules are
//! componentized here with wit-component. Components land in `$OUT_DIR/plugins`, exported
//! to the crate as `CROSSDOCK_PLUGIN_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    if let Err(message) = build() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=CROSSDOCK_PREBUILT_PLUGINS");
    // Packagers (and plugin-less checks) can hand over components built elsewhere.
    if let Ok(dir) = std::env::var("CROSSDOCK_PREBUILT_PLUGINS") {
        println!("cargo:rustc-env=CROSSDOCK_PLUGIN_DIR={dir}");
        return Ok(());
    }
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.parent().ok_or("host/ has no parent")?.to_path_buf();
    let plugins = root.join("plugins");
    let out = PathBuf::from(env("OUT_DIR")?).join("plugins");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;

    watch(&root.join("wit"));
    watch(&plugins);
    println!("cargo:rerun-if-changed={}", root.join("scripts/wasm-toolchain.sh").display());

    let detect = Command::new("bash")
        .arg(root.join("scripts/wasm-toolchain.sh"))
        .arg("detect")
        .output()
        .map_err(|e| format!("running scripts/wasm-toolchain.sh: {e}"))?;
    if !detect.status.success() {
        return Err(String::from_utf8_lossy(&detect.stderr).trim().to_string());
    }
    let detected = String::from_utf8_lossy(&detect.stdout).to_string();
    let get =
        |key: &str| detected.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_string);
    let mode = get("mode").ok_or("wasm-toolchain.sh printed no mode")?;

    // Plugins get their own target dir so their build never waits on the host's lock.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("plugins");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&plugins).args(["build", "--release", "--workspace", "--target-dir"]).arg(&target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cargo.env_remove(var);
    }
    let target = if mode == "wasip2" {
        cargo.args(["--target", "wasm32-wasip2"]);
        "wasm32-wasip2"
    } else {
        let rustc = get("rustc").ok_or("no rustc for the Debian toolchain")?;
        let linker = get("linker").ok_or("no linker for the Debian toolchain")?;
        cargo
            .args(["--target", "wasm32-unknown-unknown", "-Zbuild-std=std,panic_abort"])
            .env("RUSTC", rustc)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker);
        "wasm32-unknown-unknown"
    };
    let status = cargo.status().map_err(|e| format!("running cargo for plugins: {e}"))?;
    if !status.success() {
        return Err(format!("building the plugins in {} failed ({status})", plugins.display()));
    }

    let built = target_dir.join(target).join("release");
    for entry in std::fs::read_dir(&built).map_err(|e| format!("{}: {e}", built.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".wasm").and_then(|s| s.strip_prefix("crossdock_")) else {
            continue;
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let component = if mode == "wasip2" { bytes } else { componentize(&bytes, name)? };
        let dest = out.join(format!("{}.wasm", stem.replace('_', "-")));
        std::fs::write(&dest, component).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    println!("cargo:rustc-env=CROSSDOCK_PLUGIN_DIR={}", out.display());
    Ok(())
}

fn componentize(module: &[u8], name: &str) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| format!("componentizing {name}: {e:#}"))
}

fn env(key: &str) -> Result<String, String> {
    std::env::var(key).map_err(|_| format!("{key} is not set"))
}

/// Re-run when any source file changes, skipping build output.
fn watch(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
