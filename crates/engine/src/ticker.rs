//! The deadline ticker: a thread that asks the actor to check acknowledgement and
//! referral deadlines every `tick_ms`, and ends at once when the engine shuts down.

use crate::EngineError;
use crate::actor::Request;
use tokio::sync::mpsc;

/// Starts the ticker on the actor's inbox `ticker_tx`. Returns the sender whose drop
/// stops it, and its thread.
pub(crate) fn spawn(
    ticker_tx: mpsc::Sender<Request>,
    tick_ms: u64,
) -> Result<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>), EngineError> {
    let (stop, ticker_stop) = std::sync::mpsc::channel::<()>();
    let tick = std::time::Duration::from_millis(tick_ms.max(10));
    let t = std::thread::Builder::new()
        .name("dispatch-ticker".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                ticker_stop.recv_timeout(tick)
            {
                // Queued even behind a full inbox (it drains in well under a
                // tick): a cluster's leader renews its lease on the tick, and a
                // dropped tick under a storm of positions would let the lease
                // lapse and hand the region over for nothing. One tick at most
                // waits at a time.
                if ticker_tx.blocking_send(Request::Tick).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| EngineError::Threads(e.to_string()))?;
    Ok((stop, t))
}
