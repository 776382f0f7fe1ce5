//! A deadline on reading a request body, as Apache's `mod_reqtimeout` sets one: the body must
//! arrive within a base time plus one second for every `min_rate` bytes received, so a client
//! cannot hold a connection by sending a byte now and then, while a large upload at a
//! reasonable rate always finishes. Time earned by a burst cannot be spent idling: no more
//! than the base time may pass between two chunks.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How long a body may take.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    /// Time allowed before any byte counts.
    pub base: Duration,
    /// Bytes per second that earn one more second.
    pub min_rate: u64,
}

/// The error a body yields when its deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// A body that fails with [`BodyTimedOut`] once its deadline passes, and says so through
/// `timed_out` (the middleware then answers 408 whatever the handler made of the error).
pub struct DeadlineBody {
    inner: Body,
    started: Instant,
    last_chunk: Instant,
    deadline: BodyDeadline,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl DeadlineBody {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: Body, deadline: BodyDeadline, timed_out: Arc<AtomicBool>) -> Self {
        let started = Instant::now();
        Self {
            inner,
            started,
            last_chunk: started,
            deadline,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(started + deadline.base)),
            timed_out,
        }
    }

    fn current_deadline(&self) -> Instant {
        let earned = self
            .received
            .checked_div(self.deadline.min_rate.max(1))
            .unwrap_or(0);
        let by_rate = self.started + self.deadline.base + Duration::from_secs(earned);
        by_rate.min(self.last_chunk + self.deadline.base)
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    this.last_chunk = Instant::now();
                    let deadline = this.current_deadline();
                    this.sleep.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.timed_out.store(true, Ordering::Release);
                    Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
                }
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;

    #[tokio::test]
    async fn a_trickle_times_out_and_a_steady_body_does_not() -> Result<(), axum::Error> {
        let deadline = BodyDeadline {
            base: Duration::from_millis(300),
            min_rate: 100,
        };
        // A byte every 100 ms earns nothing: the deadline stays at 300 ms.
        let trickle = futures::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            (n < 20).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
        });
        let flag = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody::new(Body::from_stream(trickle), deadline, Arc::clone(&flag));
        let read = axum::body::to_bytes(Body::new(body), usize::MAX).await;
        assert!(read.is_err(), "a trickle must time out");
        assert!(flag.load(Ordering::Acquire));

        // 1000 bytes every 100 ms earns ten seconds each time: a second of body is fine.
        let steady = futures::stream::iter(0..10).then(|_| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 1000]))
        });
        let flag = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody::new(Body::from_stream(steady), deadline, Arc::clone(&flag));
        let read = axum::body::to_bytes(Body::new(body), usize::MAX).await?;
        assert_eq!(read.len(), 10_000);
        assert!(!flag.load(Ordering::Acquire));

        // A burst earns a long deadline, but a pause longer than the base time still ends it.
        let burst_then_stall = futures::stream::iter(0..2).then(|i| async move {
            if i == 1 {
                tokio::time::sleep(Duration::from_millis(600)).await;
            }
            Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 100_000]))
        });
        let flag = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody::new(
            Body::from_stream(burst_then_stall),
            deadline,
            Arc::clone(&flag),
        );
        let read = axum::body::to_bytes(Body::new(body), usize::MAX).await;
        assert!(read.is_err(), "a stall after a burst must time out");
        assert!(flag.load(Ordering::Acquire));
        Ok(())
    }
}
