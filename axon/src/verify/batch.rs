//! Batch verification: the signatures of requests arriving together are checked in one
//! sr25519 batch equation, which costs about half as much per signature as checking them
//! one by one once a batch holds eight or more.
//!
//! When no signature is being checked, a request checks its own at once, alone. Those
//! arriving meanwhile queue and wait, and one drain task at a time empties the queue: it
//! takes up to [`MAX_BATCH`] waiting signatures, checks them together (a handful singly),
//! answers each, yields to the other tasks, and goes on until the queue is empty. So an
//! idle axon pays nothing for batching, and a busy one batches exactly the signatures that
//! arrived while the previous ones were being checked; no request ever waits for a batch
//! to fill.
//!
//! A batch that fails says only that one of its signatures is bad: each is then checked
//! singly to answer every request correctly, and the next [`SINGLES_AFTER_FAILURE`] are
//! checked singly too, so a client sending bad signatures cannot make the axon pay for
//! failed batches on top of the single checks.

use schnorrkel::context::SigningContext;
use schnorrkel::{PublicKey, Signature};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The most signatures checked in one batch.
pub(crate) const MAX_BATCH: usize = 64;

/// Fewer waiting signatures than this are checked singly: a batch of two or three saves
/// little or nothing.
pub(crate) const MIN_BATCH: usize = 4;

/// After a failed batch, this many signatures are checked singly before batching again.
pub(crate) const SINGLES_AFTER_FAILURE: usize = 64;

/// One signature to check: over `message` (plain, or Polkadot's `<Bytes>` wrapping of it)
/// by `public`.
pub(crate) struct Claim {
    pub(crate) public: PublicKey,
    pub(crate) signature: Signature,
    pub(crate) message: String,
}

impl Claim {
    /// Checks this signature alone, plain or `<Bytes>`-wrapped.
    pub(crate) fn check(&self, context: &SigningContext) -> bool {
        let signed = |m: &[u8]| {
            self.public
                .verify(context.bytes(m), &self.signature)
                .is_ok()
        };
        signed(self.message.as_bytes())
            || signed(format!("<Bytes>{}</Bytes>", self.message).as_bytes())
    }
}

struct Job {
    claim: Claim,
    /// The claim back with its verdict.
    done: oneshot::Sender<(Claim, bool)>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    /// A drain task is running.
    draining: bool,
    /// Signatures still to be checked singly after a failed batch.
    singles: usize,
}

/// The batch queue of one verifier.
pub(crate) struct Batcher {
    context: SigningContext,
    queue: Mutex<Queue>,
}

impl Batcher {
    pub(crate) fn new(context: SigningContext) -> Arc<Batcher> {
        Arc::new(Batcher {
            context,
            queue: Mutex::new(Queue::default()),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `claim` together with the others waiting, and gives it back with the verdict.
    /// Needs a tokio runtime (the drain is a task); `None` when the runtime shut down before
    /// the check was made.
    ///
    /// When nothing is being checked, the claim is checked at once, here, alone: an idle
    /// axon pays no hand-over to another task. Claims arriving meanwhile queue, and a drain
    /// task is started for them when this check ends.
    pub(crate) async fn check(self: &Arc<Self>, claim: Claim) -> Option<(Claim, bool)> {
        let waiting = {
            let mut queue = self.queue();
            if queue.draining {
                let (done, result) = oneshot::channel();
                queue.waiting.push_back(Job { claim, done });
                Err(result)
            } else {
                // Nobody is checking, so nobody is waiting either.
                queue.draining = true;
                Ok(claim)
            }
        };
        match waiting {
            Err(result) => result.await.ok(),
            Ok(claim) => {
                let ok = claim.check(&self.context);
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    queue.draining = false;
                } else {
                    tokio::spawn(self.clone().drain());
                }
                Some((claim, ok))
            }
        }
    }

    /// Empties the queue, a batch at a time, then ends.
    async fn drain(self: Arc<Self>) {
        loop {
            let (jobs, singly) = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    return;
                }
                let n = queue.waiting.len().min(MAX_BATCH);
                let jobs: Vec<Job> = queue.waiting.drain(..n).collect();
                let singly = queue.singles > 0 || jobs.len() < MIN_BATCH;
                queue.singles = queue.singles.saturating_sub(jobs.len());
                (jobs, singly)
            };
            let (claims, senders): (Vec<Claim>, Vec<_>) =
                jobs.into_iter().map(|j| (j.claim, j.done)).unzip();
            let (results, failed) = check_all(&self.context, &claims, singly);
            if failed {
                self.queue().singles = SINGLES_AFTER_FAILURE;
            }
            for ((done, claim), ok) in senders.into_iter().zip(claims).zip(results) {
                // A request that went away meanwhile no longer needs its answer.
                let _ = done.send((claim, ok));
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Checks `claims`: in one batch unless `singly`, each alone when the batch fails. Returns
/// each one's result, and whether a batch was tried and failed.
pub(crate) fn check_all(
    context: &SigningContext,
    claims: &[Claim],
    singly: bool,
) -> (Vec<bool>, bool) {
    if !singly {
        let transcripts = claims.iter().map(|c| context.bytes(c.message.as_bytes()));
        let signatures: Vec<Signature> = claims.iter().map(|c| c.signature).collect();
        let publics: Vec<PublicKey> = claims.iter().map(|c| c.public).collect();
        if schnorrkel::verify_batch(transcripts, &signatures, &publics, true).is_ok() {
            return (vec![true; claims.len()], false);
        }
    }
    let results = claims.iter().map(|c| c.check(context)).collect();
    (results, !singly)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    fn claim(signer: &str, message: &str, signed: &str) -> Claim {
        let pair = Keypair::from_uri(signer).unwrap();
        let hex = pair.sign(signed.as_bytes());
        let bytes = crate::keys::hex_bytes(&hex[2..]).unwrap();
        Claim {
            public: PublicKey::from_bytes(&pair.public()).unwrap(),
            signature: Signature::from_bytes(&bytes).unwrap(),
            message: message.to_owned(),
        }
    }

    fn context() -> SigningContext {
        schnorrkel::signing_context(b"substrate")
    }

    #[test]
    fn a_good_batch_passes_whole() {
        let claims: Vec<Claim> = (0..8)
            .map(|i| claim(&format!("//U{i}"), &format!("m{i}"), &format!("m{i}")))
            .collect();
        assert_eq!(
            check_all(&context(), &claims, false),
            (vec![true; 8], false)
        );
    }

    #[test]
    fn a_bad_signature_fails_the_batch_and_only_itself() {
        let mut claims: Vec<Claim> = (0..8)
            .map(|i| claim(&format!("//U{i}"), &format!("m{i}"), &format!("m{i}")))
            .collect();
        claims[5] = claim("//U5", "m5", "something else");
        let (results, failed) = check_all(&context(), &claims, false);
        assert!(failed);
        let expected: Vec<bool> = (0..8).map(|i| i != 5).collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn a_bytes_wrapped_signature_passes_singly() {
        let claims: Vec<Claim> = (0..4)
            .map(|i| claim(&format!("//U{i}"), "m", "<Bytes>m</Bytes>"))
            .chain([claim("//U9", "m", "m")])
            .collect();
        assert_eq!(check_all(&context(), &claims, false), (vec![true; 5], true));
        assert_eq!(check_all(&context(), &claims, true), (vec![true; 5], false));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let batcher = Batcher::new(context());
        let checks = (0..100).map(|i| {
            let batcher = batcher.clone();
            // Every seventh is signed over another message.
            let signed = if i % 7 == 3 {
                "forged".to_owned()
            } else {
                format!("m{i}")
            };
            let c = claim(&format!("//U{}", i % 10), &format!("m{i}"), &signed);
            tokio::spawn(async move { (i, batcher.check(c).await.map(|(_, ok)| ok)) })
        });
        for check in checks {
            let (i, result) = check.await.unwrap();
            assert_eq!(result, Some(i % 7 != 3), "request {i}");
        }
        // Whether the drain has ended or not, a later check is answered.
        assert_eq!(
            batcher
                .check(claim("//U1", "late", "late"))
                .await
                .map(|(_, ok)| ok),
            Some(true)
        );
    }
}
