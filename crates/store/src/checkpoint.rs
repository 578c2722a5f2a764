//! Signed checkpoints: the chain head (row and hash) signed with an ed25519 key
//! that lives outside the data directory.
//!
//! The hash chain shows an edited or removed row, but not a journal whose tail
//! was cut off and whose head was moved back: what is left is a shorter chain
//! that is perfectly consistent. A checkpoint anchors the chain: it says "row R
//! had hash H at time T", signed by a key the journal file does not hold. A
//! journal shorter than a checkpoint, or whose hash at a checkpoint's row
//! differs, was rewritten. Checkpoints are stored in the journal (table
//! `checkpoints`) and can be exported (`satria audit checkpoints --json`) to
//! another machine, where a copy survives whatever happens to the data dir.
//!
//! The signed message (part of the format, never to change without a new tag):
//!
//! ```text
//! "satria-checkpoint-v1" || row u64 BE || hash 32 bytes || at_ms i64 BE
//! ```
//!
//! The key file holds the 32-byte ed25519 seed as 64 hex digits and a newline.

use std::io::Write as _;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};

use crate::chain::{self, ChainHash};

/// Domain tag of the signed message.
const TAG: &[u8] = b"satria-checkpoint-v1";

/// One signed checkpoint of the chain head.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The global row that was the chain head.
    pub row: u64,
    /// Its chain hash (64 lower-case hex digits).
    pub hash: String,
    /// When the checkpoint was signed, ms since the Unix epoch.
    pub at_ms: i64,
    /// The ed25519 public key that signed it (64 hex digits).
    pub public_key: String,
    /// The ed25519 signature (128 hex digits).
    pub signature: String,
}

fn message(row: u64, hash: &ChainHash, at_ms: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(TAG.len() + 48);
    m.extend_from_slice(TAG);
    m.extend_from_slice(&row.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&at_ms.to_be_bytes());
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let pairs = s.trim().as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .filter(|t| t.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|t| u8::from_str_radix(t, 16).ok())
        })
        .collect()
}

/// Parses an ed25519 public key given as 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = unhex(text)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{:?} is not a public key (64 hex digits)", text.trim()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not a valid ed25519 public key: {e}"))
}

impl Checkpoint {
    /// Checks the signature against the checkpoint's own public key and, when
    /// `expected` is given, that this key is the expected one. Returns what is
    /// wrong, if anything.
    pub fn check(&self, expected: Option<&VerifyingKey>) -> Result<(), String> {
        let key = parse_public_key(&self.public_key)?;
        if let Some(e) = expected
            && e != &key
        {
            return Err(format!(
                "signed by key {}, not by the expected key {}",
                self.public_key,
                hex(e.as_bytes())
            ));
        }
        let hash = chain::from_hex(&self.hash)
            .ok_or_else(|| format!("malformed checkpoint hash {:?}", self.hash))?;
        let sig: [u8; 64] = unhex(&self.signature)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| "malformed signature".to_string())?;
        key.verify(
            &message(self.row, &hash, self.at_ms),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| "the signature does not match the checkpoint".to_string())
    }
}

/// An ed25519 signing key for checkpoints. Its `Debug` shows the public key only.
#[derive(Clone)]
pub struct AuditKey(SigningKey);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", self.public_hex())
    }
}

impl AuditKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> AuditKey {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        AuditKey(SigningKey::from_bytes(&seed))
    }

    /// A key from a 32-byte seed (tests use fixed seeds).
    pub fn from_seed(seed: [u8; 32]) -> AuditKey {
        AuditKey(SigningKey::from_bytes(&seed))
    }

    /// Writes the key to a new file readable by its owner only (mode 0600);
    /// refuses to overwrite an existing file.
    pub fn write_new(&self, path: &Path) -> std::io::Result<()> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(path)?;
        writeln!(f, "{}", hex(self.0.as_bytes()))?;
        f.sync_all()
    }

    /// Reads a key file written by [`AuditKey::write_new`].
    pub fn read(path: &Path) -> Result<AuditKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the audit key: {e}", path.display()))?;
        let seed: [u8; 32] = unhex(&text)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format!(
                    "{}: not an audit key (64 hex digits, from `satria audit keygen`)",
                    path.display()
                )
            })?;
        Ok(AuditKey(SigningKey::from_bytes(&seed)))
    }

    /// The public key, 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex(self.0.verifying_key().as_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// Signs `row` with chain hash `hash` at `at_ms`.
    pub fn sign(&self, row: u64, hash: &ChainHash, at_ms: i64) -> Checkpoint {
        let sig = self.0.sign(&message(row, hash, at_ms));
        Checkpoint {
            row,
            hash: chain::to_hex(hash),
            at_ms,
            public_key: self.public_hex(),
            signature: hex(&sig.to_bytes()),
        }
    }
}

/// How a writing journal signs its head: with `key`, every `every_rows` rows
/// and at least every `every_ms` while rows were appended since the last one.
#[derive(Debug, Clone)]
pub struct CheckpointSigner {
    pub key: AuditKey,
    pub every_rows: u64,
    pub every_ms: i64,
}

impl CheckpointSigner {
    /// Every 1,000 rows and every minute.
    pub fn new(key: AuditKey) -> CheckpointSigner {
        CheckpointSigner {
            key,
            every_rows: 1000,
            every_ms: 60_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_unchanged_and_under_its_key() {
        let k = AuditKey::from_seed([7; 32]);
        let other = AuditKey::from_seed([8; 32]);
        let cp = k.sign(12, &[3; 32], 1_700_000_000_000);
        cp.check(None).unwrap();
        cp.check(Some(&k.public_key())).unwrap();
        let e = cp.check(Some(&other.public_key())).unwrap_err();
        assert!(e.contains("not by the expected key"), "{e}");
        let mut moved = cp.clone();
        moved.row = 11;
        assert!(moved.check(None).is_err());
        // Re-labelling someone else's signature with our public key fails too.
        let mut forged = other.sign(12, &[3; 32], 1_700_000_000_000);
        forged.public_key = k.public_hex();
        assert!(forged.check(Some(&k.public_key())).is_err());
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("audit.key");
        let k = AuditKey::from_seed([9; 32]);
        k.write_new(&p).unwrap();
        assert_eq!(AuditKey::read(&p).unwrap().public_hex(), k.public_hex());
        assert!(AuditKey::generate().write_new(&p).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("bad.key"), "zz\n").unwrap();
        assert!(AuditKey::read(&dir.path().join("bad.key")).is_err());
    }
}
