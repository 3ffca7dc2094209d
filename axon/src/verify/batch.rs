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
//! checked singly too (twice as many after each further failure in a row), so a client
//! sending bad signatures cannot make the axon pay for failed batches on top of the single
//! checks. Singles are taken and answered one at a time, so each waits for one check, not
//! for a batch's worth.
//!
//! Fairness: the queue is kept per client address, and a batch takes one signature from
//! each waiting client in turn. A client flooding the axon with forged signatures (under a
//! validator's public hotkey, which any allow-list passes) then delays another client's
//! check by at most one batch, however many it sends. A signature whose request's deadline
//! passed while it waited is not checked at all, and at most `VerifyConfig::max_waiting`
//! wait.

use schnorrkel::context::SigningContext;
use schnorrkel::{PublicKey, Signature};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The most signatures checked in one batch.
pub(crate) const MAX_BATCH: usize = 64;

/// Fewer waiting signatures than this are checked singly: a batch of two or three saves
/// little or nothing.
pub(crate) const MIN_BATCH: usize = 4;

/// After a failed batch, this many signatures are checked singly before batching again;
/// twice as many after each further failed batch in a row, up to [`MAX_SINGLES`].
pub(crate) const SINGLES_AFTER_FAILURE: usize = 64;

/// The most signatures checked singly between two batches.
pub(crate) const MAX_SINGLES: usize = 4096;

/// The default of the most signatures waiting (`VerifyConfig::max_waiting`); beyond it a
/// request is refused at once (503).
pub(crate) const MAX_WAITING: usize = 8192;

/// One signature to check: over `message` (plain, or Polkadot's `<Bytes>` wrapping of it)
/// by `public`.
pub(crate) struct Claim {
    pub(crate) public: PublicKey,
    pub(crate) signature: Signature,
    pub(crate) message: String,
    /// Only the plain form can be right: this hotkey signed plain before and bad
    /// signatures are arriving (see `Verifier`), so the wrapped retry is skipped.
    pub(crate) plain_only: bool,
}

/// Which form of the message a signature was made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    Plain,
    Wrapped,
}

impl Claim {
    /// Checks this signature alone: plain, then (unless `plain_only`) `<Bytes>`-wrapped.
    pub(crate) fn check(&self, context: &SigningContext) -> Option<Form> {
        let signed = |m: &[u8]| {
            self.public
                .verify(context.bytes(m), &self.signature)
                .is_ok()
        };
        if signed(self.message.as_bytes()) {
            return Some(Form::Plain);
        }
        if self.plain_only {
            return None;
        }
        signed(&crate::wire::signing::bytes_wrapped(
            self.message.as_bytes(),
        ))
        .then_some(Form::Wrapped)
    }
}

/// What became of a claim given to [`Batcher::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Checked: the form it was signed over, or `None` for a bad signature.
    Checked(Option<Form>),
    /// Its deadline passed while it waited: not checked.
    Expired,
    /// Too many were waiting: not queued.
    Saturated,
}

struct Job {
    claim: Claim,
    deadline: Option<Instant>,
    /// The claim back with its verdict.
    done: oneshot::Sender<(Claim, Verdict)>,
}

#[derive(Default)]
struct Queue {
    /// Waiting jobs by client address.
    clients: HashMap<String, VecDeque<Job>>,
    /// The clients with waiting jobs, in the order they are served.
    turn: VecDeque<String>,
    waiting: usize,
    /// A drain task is running.
    draining: bool,
    /// Signatures still to be checked singly after a failed batch.
    singles: usize,
    /// How many the next failed batch sets `singles` to.
    singles_after: usize,
}

impl Queue {
    fn push(&mut self, client: &str, job: Job) {
        match self.clients.get_mut(client) {
            Some(jobs) => jobs.push_back(job),
            None => {
                self.clients
                    .insert(client.to_owned(), VecDeque::from([job]));
                self.turn.push_back(client.to_owned());
            }
        }
        self.waiting += 1;
    }

    /// Up to `n` jobs, one from each client in turn.
    fn take(&mut self, n: usize) -> Vec<Job> {
        let mut jobs = Vec::with_capacity(n.min(self.waiting));
        while jobs.len() < n {
            let Some(client) = self.turn.pop_front() else {
                break;
            };
            let Some(queue) = self.clients.get_mut(&client) else {
                continue;
            };
            if let Some(job) = queue.pop_front() {
                jobs.push(job);
                self.waiting -= 1;
            }
            if queue.is_empty() {
                self.clients.remove(&client);
            } else {
                self.turn.push_back(client);
            }
        }
        jobs
    }
}

/// The batch queue of one verifier.
pub(crate) struct Batcher {
    context: SigningContext,
    queue: Mutex<Queue>,
    max_waiting: usize,
}

impl Batcher {
    pub(crate) fn new(context: SigningContext, max_waiting: usize) -> Arc<Batcher> {
        Arc::new(Batcher {
            context,
            queue: Mutex::new(Queue::default()),
            max_waiting,
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether bad signatures arrived lately (a batch failed, and its singles are not all
    /// checked yet).
    pub(crate) fn under_attack(&self) -> bool {
        self.queue().singles > 0
    }

    /// Checks `claim` from `client` (its address) together with the others waiting, and
    /// gives it back with the verdict; not checked once `deadline` passed. Needs a tokio
    /// runtime (the drain is a task); `None` when the runtime shut down before the check
    /// was made.
    ///
    /// When nothing is being checked, the claim is checked at once, here, alone: an idle
    /// axon pays no hand-over to another task. Claims arriving meanwhile queue, and a drain
    /// task is started for them when this check ends.
    pub(crate) async fn check(
        self: &Arc<Self>,
        claim: Claim,
        client: &str,
        deadline: Option<Instant>,
    ) -> Option<(Claim, Verdict)> {
        let waiting = {
            let mut queue = self.queue();
            if !queue.draining {
                // Nobody is checking, so nobody is waiting either.
                queue.draining = true;
                Ok(claim)
            } else if queue.waiting >= self.max_waiting {
                return Some((claim, Verdict::Saturated));
            } else {
                let (done, result) = oneshot::channel();
                let job = Job {
                    claim,
                    deadline,
                    done,
                };
                queue.push(client, job);
                Err(result)
            }
        };
        match waiting {
            Err(result) => result.await.ok(),
            Ok(claim) => {
                let form = claim.check(&self.context);
                let mut queue = self.queue();
                if queue.waiting == 0 {
                    queue.draining = false;
                } else {
                    tokio::spawn(self.clone().drain());
                }
                Some((claim, Verdict::Checked(form)))
            }
        }
    }

    /// Empties the queue, a batch (or, after a failed batch, one signature) at a time,
    /// then ends.
    async fn drain(self: Arc<Self>) {
        let mut since_yield = 0;
        loop {
            let (jobs, singly) = {
                let mut queue = self.queue();
                if queue.waiting == 0 {
                    queue.draining = false;
                    return;
                }
                let singly = queue.singles > 0 || queue.waiting < MIN_BATCH;
                let jobs = queue.take(if singly { 1 } else { MAX_BATCH });
                queue.singles = queue.singles.saturating_sub(jobs.len());
                (jobs, singly)
            };
            // A request whose deadline passed is answered (408) without a check.
            let now = Instant::now();
            let (live, expired): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|j| j.deadline.is_none_or(|d| d > now));
            for job in expired {
                let _ = job.done.send((job.claim, Verdict::Expired));
            }
            let (claims, senders): (Vec<Claim>, Vec<_>) =
                live.into_iter().map(|j| (j.claim, j.done)).unzip();
            let (results, failed) = check_all(&self.context, &claims, singly);
            if !singly {
                let mut queue = self.queue();
                if failed {
                    queue.singles = queue.singles_after.max(SINGLES_AFTER_FAILURE);
                    queue.singles_after = (queue.singles * 2).min(MAX_SINGLES);
                } else {
                    queue.singles_after = SINGLES_AFTER_FAILURE;
                }
            }
            for ((done, claim), form) in senders.into_iter().zip(claims).zip(results) {
                // A request that went away meanwhile no longer needs its answer.
                let _ = done.send((claim, Verdict::Checked(form)));
            }
            since_yield += 1;
            if !singly || since_yield >= 8 {
                since_yield = 0;
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Checks `claims`: in one batch unless `singly`, each alone when the batch fails. Returns
/// each one's result, and whether a batch was tried and failed.
pub(crate) fn check_all(
    context: &SigningContext,
    claims: &[Claim],
    singly: bool,
) -> (Vec<Option<Form>>, bool) {
    if claims.is_empty() {
        return (Vec::new(), false);
    }
    if !singly {
        let transcripts = claims.iter().map(|c| context.bytes(c.message.as_bytes()));
        let signatures: Vec<Signature> = claims.iter().map(|c| c.signature).collect();
        let publics: Vec<PublicKey> = claims.iter().map(|c| c.public).collect();
        if schnorrkel::verify_batch(transcripts, &signatures, &publics, true).is_ok() {
            return (vec![Some(Form::Plain); claims.len()], false);
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
        let bytes = hex::decode(&hex[2..]).unwrap();
        Claim {
            public: PublicKey::from_bytes(&pair.public()).unwrap(),
            signature: Signature::from_bytes(&bytes).unwrap(),
            message: message.to_owned(),
            plain_only: false,
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
            (vec![Some(Form::Plain); 8], false)
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
        let expected: Vec<Option<Form>> = (0..8).map(|i| (i != 5).then_some(Form::Plain)).collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn a_bytes_wrapped_signature_passes_singly() {
        let claims: Vec<Claim> = (0..4)
            .map(|i| claim(&format!("//U{i}"), "m", "<Bytes>m</Bytes>"))
            .chain([claim("//U9", "m", "m")])
            .collect();
        let forms: Vec<Option<Form>> = [Some(Form::Wrapped); 4]
            .into_iter()
            .chain([Some(Form::Plain)])
            .collect();
        assert_eq!(check_all(&context(), &claims, false), (forms.clone(), true));
        assert_eq!(check_all(&context(), &claims, true), (forms, false));
        // Plain only: the wrapped ones are not retried.
        let mut strict = claim("//U1", "m", "<Bytes>m</Bytes>");
        strict.plain_only = true;
        assert_eq!(strict.check(&context()), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let batcher = Batcher::new(context(), MAX_WAITING);
        let checks = (0..100).map(|i| {
            let batcher = batcher.clone();
            // Every seventh is signed over another message.
            let signed = if i % 7 == 3 {
                "forged".to_owned()
            } else {
                format!("m{i}")
            };
            let c = claim(&format!("//U{}", i % 10), &format!("m{i}"), &signed);
            let client = format!("10.0.0.{}", i % 3);
            tokio::spawn(async move {
                let verdict = batcher.check(c, &client, None).await.map(|(_, v)| v);
                (i, verdict)
            })
        });
        for check in checks {
            let (i, result) = check.await.unwrap();
            let form = (i % 7 != 3).then_some(Form::Plain);
            assert_eq!(result, Some(Verdict::Checked(form)), "request {i}");
        }
        // Whether the drain has ended or not, a later check is answered.
        assert_eq!(
            batcher
                .check(claim("//U1", "late", "late"), "10.0.0.1", None)
                .await
                .map(|(_, v)| v),
            Some(Verdict::Checked(Some(Form::Plain)))
        );
    }

    fn job(claim: Claim, deadline: Option<Instant>) -> (Job, oneshot::Receiver<(Claim, Verdict)>) {
        let (done, result) = oneshot::channel();
        let job = Job {
            claim,
            deadline,
            done,
        };
        (job, result)
    }

    #[test]
    fn a_batch_takes_one_signature_from_each_client_in_turn() {
        let mut queue = Queue::default();
        let mut waiting = Vec::new();
        for i in 0..5 {
            let (j, r) = job(claim("//A", &format!("a{i}"), "x"), None);
            queue.push("10.0.0.1", j);
            waiting.push(r);
        }
        let (j, _b) = job(claim("//B", "b0", "x"), None);
        queue.push("10.0.0.2", j);
        let (j, _c) = job(claim("//C", "c0", "x"), None);
        queue.push("10.0.0.3", j);
        let taken: Vec<String> = queue.take(4).into_iter().map(|j| j.claim.message).collect();
        assert_eq!(taken, ["a0", "b0", "c0", "a1"]);
        assert_eq!(queue.waiting, 3);
        let rest: Vec<String> = queue
            .take(64)
            .into_iter()
            .map(|j| j.claim.message)
            .collect();
        assert_eq!(rest, ["a2", "a3", "a4"]);
        assert!(queue.turn.is_empty() && queue.clients.is_empty());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_signature_whose_deadline_passed_is_not_checked() {
        let batcher = Batcher::new(context(), MAX_WAITING);
        batcher.queue().draining = true; // another check is running: this one queues
        let past = Instant::now();
        tokio::time::advance(std::time::Duration::from_millis(1)).await;
        let waiting = {
            let batcher = batcher.clone();
            tokio::spawn(async move {
                let c = claim("//U1", "m", "m");
                batcher
                    .check(c, "10.0.0.1", Some(past))
                    .await
                    .map(|(_, v)| v)
            })
        };
        tokio::task::yield_now().await;
        tokio::spawn(batcher.clone().drain());
        assert_eq!(waiting.await.unwrap(), Some(Verdict::Expired));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn too_many_waiting_is_saturated() {
        let batcher = Batcher::new(context(), MAX_WAITING);
        {
            let mut queue = batcher.queue();
            queue.draining = true;
            queue.waiting = MAX_WAITING;
        }
        let verdict = batcher
            .check(claim("//U1", "m", "m"), "10.0.0.1", None)
            .await;
        assert_eq!(verdict.map(|(_, v)| v), Some(Verdict::Saturated));
    }
}
