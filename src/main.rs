use std::process::ExitCode;

fn main() -> ExitCode {
    turnflow::cli::main()
}
