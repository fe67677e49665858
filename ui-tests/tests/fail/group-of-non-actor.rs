// Only actors can be members of a group.
struct Config;

beam_runtime::names! {
    CONFIGS: Group<Config> = "configs";
}

fn main() {}
