//! Reading a subnet's neurons from the chain's storage maps, all at one block.

use super::{Neuron, NeuronCertificate, Snapshot};
use crate::chain::{ChainError, Subtensor, Value};
use crate::keys::ss58;
use crate::AxonInfo;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

const SM: &str = "SubtensorModule";

fn account(value: &Value) -> Option<[u8; 32]> {
    value.as_bytes().and_then(|b| b.try_into().ok())
}

/// Python's `networking.int_to_ip`.
fn ip_of(number: u128, ip_type: u128) -> String {
    if ip_type == 4 {
        Ipv4Addr::from(number as u32).to_string()
    } else {
        IpAddr::V6(Ipv6Addr::from(number)).to_string()
    }
}

fn axon_info(value: &Value, hotkey: &str, coldkey: &str) -> AxonInfo {
    let n = |name: &str| {
        value
            .field(name)
            .and_then(Value::as_u128)
            .unwrap_or_default()
    };
    AxonInfo {
        version: n("version") as i64,
        ip: ip_of(n("ip"), n("ip_type")),
        port: n("port") as u16,
        ip_type: n("ip_type") as u8,
        hotkey: hotkey.to_owned(),
        coldkey: Some(coldkey.to_owned()),
        protocol: n("protocol") as u8,
        placeholder1: n("placeholder1") as u8,
        placeholder2: n("placeholder2") as u8,
    }
}

/// A `NeuronCertificate` value: `public_key` (bytes) and `algorithm`.
fn certificate(value: &Value) -> Option<NeuronCertificate> {
    Some(NeuronCertificate {
        algorithm: value.field("algorithm")?.as_u128()? as u8,
        public_key: value.field("public_key")?.as_bytes()?.to_vec(),
    })
}

/// The neurons of `netuid` at the best block.
pub(super) async fn snapshot(subtensor: &Subtensor, netuid: u16) -> Result<Snapshot, ChainError> {
    let (block_hash, block) = subtensor.best_block().await?;
    let at = Some(block_hash.as_str());
    let subnet = Value::U(netuid.into());
    let one = |item: &'static str| async move {
        subtensor
            .storage_many_at(SM, item, &[vec![Value::U(netuid.into())]], at)
            .await
            .map(|mut v| v.pop().flatten())
    };
    if one("NetworksAdded").await? != Some(Value::Bool(true)) {
        return Err(ChainError::NoSubnet { netuid });
    }
    let n = one("SubnetworkN")
        .await?
        .and_then(|v| v.as_u128())
        .unwrap_or_default() as u16;
    let uids: Vec<Vec<Value>> = (0..n)
        .map(|uid| vec![subnet.clone(), Value::U(uid.into())])
        .collect();
    let hotkeys: Vec<[u8; 32]> = subtensor
        .storage_many_at(SM, "Keys", &uids, at)
        .await?
        .iter()
        .map(|v| v.as_ref().and_then(account).unwrap_or_default())
        .collect();
    let by_key = |f: fn(&[u8; 32], &Value) -> Vec<Value>| -> Vec<Vec<Value>> {
        hotkeys.iter().map(|h| f(h, &subnet)).collect()
    };
    let owners = subtensor
        .storage_many_at(
            SM,
            "Owner",
            &by_key(|h, _| vec![Value::Bytes(h.to_vec())]),
            at,
        )
        .await?;
    let stakes = subtensor
        .storage_many_at(
            SM,
            "TotalHotkeyAlpha",
            &by_key(|h, s| vec![Value::Bytes(h.to_vec()), s.clone()]),
            at,
        )
        .await?;
    let axons = subtensor
        .storage_many_at(
            SM,
            "Axons",
            &by_key(|h, s| vec![s.clone(), Value::Bytes(h.to_vec())]),
            at,
        )
        .await?;
    let certificates = subtensor
        .storage_many_at(
            SM,
            "NeuronCertificates",
            &by_key(|h, s| vec![s.clone(), Value::Bytes(h.to_vec())]),
            at,
        )
        .await?;
    let permits = one("ValidatorPermit")
        .await?
        .map(|v| v.items())
        .unwrap_or_default();
    let updates = one("LastUpdate")
        .await?
        .map(|v| v.items())
        .unwrap_or_default();

    let mut neurons = Vec::with_capacity(n.into());
    for (uid, hotkey) in hotkeys.iter().enumerate() {
        let hotkey = ss58::encode(hotkey);
        let coldkey = owners[uid]
            .as_ref()
            .and_then(account)
            .map(|c| ss58::encode(&c))
            .unwrap_or_default();
        neurons.push(Neuron {
            uid: uid as u16,
            stake: stakes[uid]
                .as_ref()
                .and_then(Value::as_u128)
                .unwrap_or_default() as u64,
            validator_permit: permits.get(uid) == Some(&Value::Bool(true)),
            last_update: updates
                .get(uid)
                .and_then(Value::as_u128)
                .unwrap_or_default() as u64,
            axon: axons[uid].as_ref().map(|a| axon_info(a, &hotkey, &coldkey)),
            certificate: certificates[uid].as_ref().and_then(certificate),
            hotkey,
            coldkey,
        });
    }
    let by_hotkey: HashMap<String, usize> = neurons
        .iter()
        .enumerate()
        .map(|(i, n)| (n.hotkey.clone(), i))
        .collect();
    Ok(Snapshot {
        netuid,
        block,
        block_hash: block_hash.clone(),
        neurons,
        by_hotkey,
        taken: Instant::now(),
    })
}
