//! Re-embed the migrations whenever their SQL changes, and link the shipped binary compactly.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // A position-independent executable carries one 24-byte relocation record for every pointer
    // in its read-only data (vtables, string tables): 1.8 MB of this binary. Packed relative
    // relocations (RELR) describe the same pointers in a bitmap, and the loader still places the
    // binary at a random address. GNU ld 2.38+ and glibc 2.36+ understand them; an older ld
    // ignores the option with a warning.
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
