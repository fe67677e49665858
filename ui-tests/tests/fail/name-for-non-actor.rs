// Only an actor type can be named.
struct Config;

beam_runtime::names! {
    CONFIG: Config = "config";
}

fn main() {}
