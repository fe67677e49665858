// A topic's event is cloned for each subscriber, so it must be `Clone`.
struct Event;

beam_runtime::names! {
    EVENTS: Topic<Event> = "events";
}

fn main() {}
