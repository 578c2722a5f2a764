//! Snapshots of the region's state in the journal, so that a start (or a
//! takeover, or a recovery) reads the newest snapshot and replays only the
//! events after it, whatever the years hold.
//!
//! A snapshot is derived data, outside the hash chain: it is trusted only as
//! far as it agrees with what a replay would give. It is written by the leader
//! every `snapshot_every` journaled events: the actor hands the state it just
//! published (an `Arc`, shared, not copied) to a helper thread that writes the
//! image, and stores the bytes on its next batch or tick, so the actor never
//! waits for the serialisation. A snapshot is used only when it was made by
//! this version of Satria from the same configuration and hospitals (its
//! `base`: a replay starts from those, and events are applied over them), and
//! when its image reads back whole ([`Dispatch::from_image_json`]); otherwise
//! the start says why in its log and replays the whole journal, as it did
//! before snapshots.

use crate::EngineOptions;
use satria_dispatch::Dispatch;
use satria_store::EventStore;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

/// The format of the snapshot's first line.
const FORMAT: u32 = 1;

/// What the state of a start came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// The seq of the snapshot the state was read from (`None`: a replay from
    /// the first event).
    pub snapshot_seq: Option<u64>,
    /// Events replayed after it.
    pub replayed: u64,
}

/// What the snapshot must have been made from to stand for a replay: this
/// version of Satria, the same dispatch configuration and the same hospitals.
fn base(opts: &EngineOptions) -> String {
    serde_json::json!({
        "format": FORMAT,
        "version": env!("CARGO_PKG_VERSION"),
        "stream": opts.stream,
        "config": opts.config,
        "hospitals": opts.hospitals,
    })
    .to_string()
}

/// The snapshot's bytes: the base on the first line, then the image, zlib
/// compressed (JSON shrinks about tenfold, and the actor's pause to store it
/// with it; the compression is on the helper thread).
fn encode(base: &str, d: &Dispatch) -> Vec<u8> {
    use std::io::Write;
    let image = d.image_json();
    let mut out = Vec::with_capacity(base.len() + 1 + image.len() / 8);
    out.extend_from_slice(base.as_bytes());
    out.push(b'\n');
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::fast());
    z.write_all(&image).expect("compressing into memory");
    z.finish().expect("compressing into memory")
}

/// The image after the base line, uncompressed.
fn image(compressed: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::with_capacity(compressed.len() * 8);
    flate2::read::ZlibDecoder::new(compressed)
        .read_to_end(&mut out)
        .map_err(|e| format!("the image does not decompress: {e}"))?;
    Ok(out)
}

/// The state of the newest snapshot at or before `upto`, with its seq; `None`
/// (and why, in the log) when there is none or it cannot stand for a replay.
pub(crate) fn newest(
    journal: &dyn EventStore,
    opts: &EngineOptions,
    upto: u64,
) -> Option<(Dispatch, u64)> {
    if opts.snapshot_every == 0 {
        return None;
    }
    let (seq, bytes) = match journal.newest_snapshot(&opts.stream) {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!("the newest snapshot could not be read ({e}); replaying the journal");
            return None;
        }
    };
    if seq > upto {
        return None;
    }
    let Some(split) = bytes.iter().position(|b| *b == b'\n') else {
        tracing::warn!(seq, "the snapshot has no base line; replaying the journal");
        return None;
    };
    if bytes[..split] != *base(opts).as_bytes() {
        tracing::info!(
            seq,
            "the snapshot was made by another version or from another configuration or \
             hospital list; replaying the journal"
        );
        return None;
    }
    match image(&bytes[split + 1..])
        .and_then(|i| Dispatch::from_image_json(opts.config.clone(), &i))
    {
        Ok(d) => Some((d, seq)),
        Err(e) => {
            tracing::warn!(seq, "the snapshot is refused ({e}); replaying the journal");
            None
        }
    }
}

/// The leader's snapshot maker: a helper thread that turns a published state
/// into bytes, and the seq of the last snapshot stored or read.
pub(crate) struct Maker {
    every: u64,
    /// The seq the newest snapshot stands for (or the start's state came from).
    pub(crate) at: u64,
    busy: bool,
    to_writer: SyncSender<(u64, Arc<Dispatch>)>,
    from_writer: Receiver<(u64, Vec<u8>)>,
}

impl Maker {
    /// A maker for `opts` (`None` when snapshots are off), the newest
    /// snapshot standing for `at`.
    pub(crate) fn spawn(opts: &EngineOptions, at: u64) -> std::io::Result<Option<Maker>> {
        if opts.snapshot_every == 0 {
            return Ok(None);
        }
        let base = base(opts);
        let (to_writer, jobs) = sync_channel::<(u64, Arc<Dispatch>)>(1);
        let (done, from_writer) = sync_channel(1);
        let b = base;
        std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || {
                // Ends when the actor (the sender) is gone.
                while let Ok((seq, d)) = jobs.recv() {
                    if done.send((seq, encode(&b, &d))).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Some(Maker {
            every: opts.snapshot_every,
            at,
            busy: false,
            to_writer,
            from_writer,
        }))
    }

    /// After a journaled batch: hands `state` (as of `seq`) to the writer when
    /// `every` events have been journaled since the last snapshot.
    pub(crate) fn offer(&mut self, seq: u64, state: &Arc<Dispatch>) {
        if self.busy || seq < self.at.saturating_add(self.every) {
            return;
        }
        if self.to_writer.try_send((seq, Arc::clone(state))).is_ok() {
            self.busy = true;
        }
    }

    /// Stores the snapshot the writer finished, if any. A failure is logged and
    /// changes nothing (a snapshot is derived data; the next one is tried after
    /// `every` more events).
    pub(crate) fn store(&mut self, journal: &mut dyn EventStore, stream: &str) {
        match self.from_writer.try_recv() {
            Ok((seq, bytes)) => {
                self.busy = false;
                self.at = seq;
                let t = std::time::Instant::now();
                match journal.put_snapshot(stream, seq, &bytes) {
                    Ok(()) => tracing::info!(
                        seq,
                        bytes = bytes.len(),
                        ms = t.elapsed().as_millis() as u64,
                        "snapshot stored"
                    ),
                    Err(e) => tracing::warn!(seq, "the snapshot was not stored: {e}"),
                }
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.busy = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_its_base_line_then_the_compressed_image() {
        let opts = EngineOptions::new("/nonexistent");
        let d = Dispatch::new(opts.config.clone(), Vec::new(), Vec::new());
        let bytes = encode(&base(&opts), &d);
        let split = bytes.iter().position(|b| *b == b'\n').unwrap();
        let head: serde_json::Value = serde_json::from_slice(&bytes[..split]).unwrap();
        assert_eq!(head["format"], 1);
        assert_eq!(head["stream"], "region:banyumas");
        let i = image(&bytes[split + 1..]).unwrap();
        assert!(Dispatch::from_image_json(opts.config.clone(), &i).unwrap() == d);
    }
}
