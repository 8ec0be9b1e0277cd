fn main() {
    // Embedded migrations must be re-embedded whenever a migration changes.
    println!("cargo:rerun-if-changed=../../migrations");
}
