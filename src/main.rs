use std::process::ExitCode;

// The engine's core allocates and frees many small JSON values per step; glibc's allocator
// fragments under that load (its free-list walks showed as a third of the bench's CPU).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    turnflow::cli::main()
}
