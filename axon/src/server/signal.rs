//! Waiting for the process to be told to stop: SIGTERM (what `systemctl stop`, `docker
//! stop` and `pm2 stop` send) or SIGINT (Ctrl-C).

/// Waits for SIGTERM or SIGINT (Ctrl-C where there are no Unix signals) and returns its
/// name. A miner then calls [`Axon::stop`](crate::Axon::stop), which drains: new
/// connections are refused and every request already received is answered.
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() {
/// let mut axon = axon::Axon::from_registry().hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap());
/// axon.start().await.unwrap();
/// let signal = axon::shutdown_signal().await.expect("signal handlers installed");
/// eprintln!("{signal}: draining");
/// axon.stop().await;
/// # }
/// ```
pub async fn shutdown_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = terminate.recv() => Ok("SIGTERM"),
            _ = interrupt.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}
