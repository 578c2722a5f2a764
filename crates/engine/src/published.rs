//! What the engine publishes: an event with its stream and sequence number, and the
//! protocol frame made from it once for every subscriber.

use satria_dispatch::Event;

/// An event as published to subscribers: its stream and its sequence number there.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The region stream (journaled) or `positions` (volatile).
    pub stream: String,
    pub seq: u64,
    pub event: Event,
    /// [`Published::frame`], made once for however many subscribers send it on.
    frame: std::sync::OnceLock<bytes::Bytes>,
}

impl Published {
    pub fn new(stream: String, seq: u64, event: Event) -> Published {
        Published {
            stream,
            seq,
            event,
            frame: std::sync::OnceLock::new(),
        }
    }

    /// The published event as one JSON object,
    /// `{"type":"event","stream":..,"seq":..,"event":{..}}`: the frame the
    /// server forwards (serialised on first use, then shared, so a thousand
    /// subscribers cost one serialisation and no copies).
    pub fn frame(&self) -> &bytes::Bytes {
        self.frame.get_or_init(|| {
            bytes::Bytes::from(
                serde_json::to_string(&Frame {
                    r#type: "event",
                    stream: &self.stream,
                    seq: self.seq,
                    event: &self.event,
                })
                .unwrap_or_default(),
            )
        })
    }
}

/// The shape of [`Published::frame`].
#[derive(serde::Serialize)]
struct Frame<'a> {
    r#type: &'static str,
    stream: &'a str,
    seq: u64,
    event: &'a Event,
}
