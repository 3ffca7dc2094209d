//! [`Subtensor`]: storage reads and signed transactions against a node, with the runtime's
//! metadata fetched on first use and again whenever the runtime's version changes.

use super::extrinsic::{self, Signing};
use super::metadata::Metadata;
use super::rpc::Rpc;
use super::scale::Value;
use super::storage::blake2_256;
use super::ChainError;
use crate::keys::Keypair;
use serde_json::{json, Value as Json};
use std::sync::{Arc, Mutex};

/// How long [`Subtensor::submit`] waits for a transaction to reach a block (subtensor
/// makes one every 12 s).
const INCLUSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A runtime as last read: its versions, the chain's genesis and its metadata.
pub(crate) struct Runtime {
    pub(crate) spec_version: u32,
    tx_version: u32,
    genesis: [u8; 32],
    pub(crate) metadata: Metadata,
}

/// A client of a subtensor node, over one WebSocket that reconnects by itself.
///
/// ```no_run
/// # async fn run() -> Result<(), axon::chain::ChainError> {
/// let subtensor = axon::chain::Subtensor::connect("ws://127.0.0.1:9944").await?;
/// println!("block {}", subtensor.block_number().await?);
/// # Ok(()) }
/// ```
pub struct Subtensor {
    rpc: Rpc,
    runtime: Mutex<Option<Arc<Runtime>>>,
}

/// A transaction in a block: where it landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Included {
    /// The block's hash, `0x` and hex.
    pub block: String,
    /// The transaction's hash, `0x` and hex.
    pub hash: String,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    format!("0x{}", crate::wire::hex(bytes))
}

pub(crate) fn unhex(text: &str) -> Result<Vec<u8>, ChainError> {
    hex::decode(text.trim_start_matches("0x"))
        .map_err(|e| ChainError::Unsupported(format!("the node answered bad hex: {e}")))
}

impl Subtensor {
    /// A client of `endpoint` (`ws://` or `wss://`); connects and reads the runtime, so a
    /// wrong address or an unsupported runtime fails here.
    pub async fn connect(endpoint: &str) -> Result<Subtensor, ChainError> {
        if !(endpoint.starts_with("ws://") || endpoint.starts_with("wss://")) {
            return Err(ChainError::Unreachable {
                endpoint: endpoint.to_owned(),
                cause: "the endpoint must start with ws:// or wss://".into(),
            });
        }
        let subtensor = Subtensor {
            rpc: Rpc::new(endpoint),
            runtime: Mutex::new(None),
        };
        subtensor.runtime().await?;
        Ok(subtensor)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        self.rpc.endpoint()
    }

    /// A raw JSON-RPC call.
    pub async fn rpc(&self, method: &str, params: Json) -> Result<Json, ChainError> {
        self.rpc.call(method, params).await
    }

    /// The runtime now: re-read when its `specVersion` moved.
    pub(crate) async fn runtime(&self) -> Result<Arc<Runtime>, ChainError> {
        let version = self.rpc.call("state_getRuntimeVersion", json!([])).await?;
        let spec_version = version["specVersion"].as_u64().unwrap_or_default() as u32;
        if let Some(runtime) = self.runtime.lock().unwrap().clone() {
            if runtime.spec_version == spec_version {
                return Ok(runtime);
            }
        }
        let metadata = self.rpc.call("state_getMetadata", json!([])).await?;
        let metadata = Metadata::decode(&unhex(metadata.as_str().unwrap_or_default())?)?;
        let genesis = self.rpc.call("chain_getBlockHash", json!([0])).await?;
        let genesis: [u8; 32] = unhex(genesis.as_str().unwrap_or_default())?
            .try_into()
            .map_err(|_| ChainError::Unsupported("the genesis hash is not 32 bytes".into()))?;
        let runtime = Arc::new(Runtime {
            spec_version,
            tx_version: version["transactionVersion"].as_u64().unwrap_or_default() as u32,
            genesis,
            metadata,
        });
        tracing::debug!(spec_version, endpoint = %self.endpoint(), "read the runtime's metadata");
        *self.runtime.lock().unwrap() = Some(runtime.clone());
        Ok(runtime)
    }

    /// The best block's number.
    pub async fn block_number(&self) -> Result<u64, ChainError> {
        let header = self.rpc.call("chain_getHeader", json!([])).await?;
        let number = header["number"].as_str().unwrap_or_default();
        u64::from_str_radix(number.trim_start_matches("0x"), 16).map_err(|_| {
            ChainError::Unsupported(format!("the node answered block number {number:?}"))
        })
    }

    /// One storage value: `pallet.item(keys)`, or its default, or `None` for an absent
    /// optional item.
    pub async fn storage(
        &self,
        pallet: &str,
        item: &str,
        keys: &[Value],
    ) -> Result<Option<Value>, ChainError> {
        let runtime = self.runtime().await?;
        let entry = runtime.metadata.storage(pallet, item)?;
        let key = entry.key(&runtime.metadata, keys)?;
        let answer = self
            .rpc
            .call("state_getStorage", json!([hex(&key)]))
            .await?;
        let bytes = answer.as_str().map(unhex).transpose()?;
        entry.value(&runtime.metadata, bytes.as_deref())
    }

    /// Many values of one item, read at one block in one call.
    pub async fn storage_many(
        &self,
        pallet: &str,
        item: &str,
        keys: &[Vec<Value>],
    ) -> Result<Vec<Option<Value>>, ChainError> {
        self.storage_many_at(pallet, item, keys, None).await
    }

    /// The best block: its hash (`0x` and hex) and number.
    pub async fn best_block(&self) -> Result<(String, u64), ChainError> {
        let header = self.rpc.call("chain_getHeader", json!([])).await?;
        let number = header["number"].as_str().unwrap_or_default();
        let number = u64::from_str_radix(number.trim_start_matches("0x"), 16).map_err(|_| {
            ChainError::Unsupported(format!("the node answered block number {number:?}"))
        })?;
        let hash = self.rpc.call("chain_getBlockHash", json!([number])).await?;
        Ok((hash.as_str().unwrap_or_default().to_owned(), number))
    }

    /// [`storage_many`](Subtensor::storage_many) at block `at` (a hash), or the best block.
    pub async fn storage_many_at(
        &self,
        pallet: &str,
        item: &str,
        keys: &[Vec<Value>],
        at: Option<&str>,
    ) -> Result<Vec<Option<Value>>, ChainError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let runtime = self.runtime().await?;
        let entry = runtime.metadata.storage(pallet, item)?;
        let encoded = keys
            .iter()
            .map(|k| entry.key(&runtime.metadata, k).map(|k| hex(&k)))
            .collect::<Result<Vec<_>, _>>()?;
        let params = match at {
            Some(at) => json!([encoded, at]),
            None => json!([encoded]),
        };
        let answer = self.rpc.call("state_queryStorageAt", params).await?;
        let mut found = std::collections::HashMap::new();
        for set in answer.as_array().into_iter().flatten() {
            for change in set["changes"].as_array().into_iter().flatten() {
                if let (Some(k), v) = (change[0].as_str(), change[1].as_str()) {
                    found.insert(k.to_owned(), v.map(unhex).transpose()?);
                }
            }
        }
        encoded
            .iter()
            .map(|k| {
                entry.value(
                    &runtime.metadata,
                    found.get(k).cloned().flatten().as_deref(),
                )
            })
            .collect()
    }

    /// The raw storage key of `pallet.item(keys)` and `value` encoded as the item's type:
    /// what a tool that writes storage directly (a test chain's `dev_setStorage`) sends.
    pub async fn encode_storage(
        &self,
        pallet: &str,
        item: &str,
        keys: &[Value],
        value: &Value,
    ) -> Result<(Vec<u8>, Vec<u8>), ChainError> {
        let runtime = self.runtime().await?;
        let entry = runtime.metadata.storage(pallet, item)?;
        let key = entry.key(&runtime.metadata, keys)?;
        let mut bytes = Vec::new();
        super::scale::encode(
            runtime.metadata.types(),
            entry.value_type(),
            value,
            &mut bytes,
        )?;
        Ok((key, bytes))
    }

    /// Encodes `pallet.call(args)` with the runtime's call layout.
    pub async fn call_data(
        &self,
        pallet: &str,
        call: &str,
        args: &[(&str, Value)],
    ) -> Result<Vec<u8>, ChainError> {
        self.runtime().await?.metadata.call(pallet, call, args)
    }

    /// Signs `call` with `signer`, submits it and waits until it is in a block; a
    /// transaction the runtime refuses or that fails in the block is an error naming why.
    pub async fn submit(&self, call: &[u8], signer: &Keypair) -> Result<Included, ChainError> {
        let runtime = self.runtime().await?;
        let nonce = self
            .rpc
            .call("system_accountNextIndex", json!([signer.ss58()]))
            .await?;
        let extrinsic = extrinsic::sign(
            call,
            signer,
            &Signing {
                metadata: &runtime.metadata,
                spec_version: runtime.spec_version,
                tx_version: runtime.tx_version,
                genesis: runtime.genesis,
                nonce: nonce.as_u64().unwrap_or_default(),
            },
        )?;
        let hash = hex(&blake2_256(&extrinsic));
        let mut status = self
            .rpc
            .subscribe(
                "author_submitAndWatchExtrinsic",
                json!([hex(&extrinsic)]),
                "author_unwatchExtrinsic",
            )
            .await
            .map_err(ChainError::refused)?;
        let waited = tokio::time::timeout(INCLUSION_TIMEOUT, async {
            while let Some(update) = status.recv().await {
                if let Some(block) = update.get("inBlock").or_else(|| update.get("finalized")) {
                    return Ok(block.as_str().unwrap_or_default().to_owned());
                }
                if let Some(word) = ["dropped", "invalid", "usurped", "finalityTimeout"]
                    .into_iter()
                    .find(|w| update.get(*w).is_some() || update.as_str() == Some(*w))
                {
                    return Err(ChainError::Dropped(format!(
                        "the transaction pool says {word}"
                    )));
                }
            }
            if status.overflowed() {
                return Err(ChainError::Unsupported(format!(
                    "the node sent more than {} status updates for transaction {hash} before \
                     a block: the watch was dropped (the transaction may still be included)",
                    super::rpc::SUBSCRIPTION_BUFFER
                )));
            }
            Err(ChainError::Unreachable {
                endpoint: self.endpoint().to_owned(),
                cause: format!("the connection closed while transaction {hash} waited for a block"),
            })
        })
        .await;
        let block = waited.map_err(|_| ChainError::Timeout {
            endpoint: self.endpoint().to_owned(),
            what: format!("the inclusion of transaction {hash}"),
            after: INCLUSION_TIMEOUT,
        })??;
        self.outcome(&runtime, &block, &hex(&extrinsic)).await?;
        Ok(Included { block, hash })
    }

    /// Reads the block's events for the transaction: `ExtrinsicFailed` becomes the module
    /// error's name and documentation.
    async fn outcome(
        &self,
        runtime: &Runtime,
        block: &str,
        extrinsic: &str,
    ) -> Result<(), ChainError> {
        let body = self.rpc.call("chain_getBlock", json!([block])).await?;
        let index = body["block"]["extrinsics"]
            .as_array()
            .and_then(|all| all.iter().position(|x| x.as_str() == Some(extrinsic)))
            .ok_or_else(|| {
                ChainError::Dropped(format!("block {block} does not hold the transaction"))
            })?;
        let entry = runtime.metadata.storage("System", "Events")?;
        let key = entry.key(&runtime.metadata, &[])?;
        let raw = self
            .rpc
            .call("state_getStorage", json!([hex(&key), block]))
            .await?;
        let events = entry.value(
            &runtime.metadata,
            raw.as_str().map(unhex).transpose()?.as_deref(),
        )?;
        for record in events.map(|e| e.items()).unwrap_or_default() {
            let phase = record.field("phase");
            let ours = matches!(phase, Some(Value::Variant(n, f)) if n == "ApplyExtrinsic" && f.first().and_then(|x| x.1.as_u128()) == Some(index as u128));
            if !ours {
                continue;
            }
            if let Some(Value::Variant(pallet, inner)) = record.field("event") {
                if let (true, Some((_, Value::Variant(name, fields)))) =
                    (pallet == "System", inner.first())
                {
                    if name == "ExtrinsicFailed" {
                        return Err(dispatch_error(runtime, fields));
                    }
                }
            }
        }
        Ok(())
    }
}

fn dispatch_error(runtime: &Runtime, fields: &[(Option<String>, Value)]) -> ChainError {
    let error = fields
        .iter()
        .find(|(n, _)| n.as_deref() == Some("dispatch_error"))
        .or(fields.first())
        .map(|(_, v)| v.clone());
    match error {
        Some(Value::Variant(kind, inner)) if kind == "Module" => {
            let module = inner
                .first()
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::tuple([]));
            let index = module
                .field("index")
                .and_then(Value::as_u128)
                .unwrap_or_default() as u8;
            let error = module
                .field("error")
                .and_then(|e| {
                    e.as_bytes()
                        .map(|b| b.first().copied().unwrap_or_default())
                        .or(e.as_u128().map(|n| n as u8))
                })
                .unwrap_or_default();
            let (name, docs) = runtime.metadata.module_error(index, error);
            ChainError::Dispatch { error: name, docs }
        }
        Some(Value::Variant(kind, _)) => ChainError::Dispatch {
            error: kind,
            docs: String::new(),
        },
        _ => ChainError::Dispatch {
            error: "an undecoded error".into(),
            docs: String::new(),
        },
    }
}
