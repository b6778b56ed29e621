//! Passwords: argon2id hashing on a bounded blocking pool, and the policy a new password must meet
//! (length, not a common password, no personal information).
//!
//! Argon2id costs ~19 MiB and tens of milliseconds of one core per hash on purpose. Run on the async
//! executor, a burst of logins would stall every other page; run unbounded on the blocking pool, it
//! would take every core and `cores × 19 MiB` would grow with the burst. So each hash waits for one
//! of N permits (N = cores by default), then runs in `spawn_blocking`.
//!
//! `data/common-passwords.txt` (~2,800 lines) was written for this project from the heads of
//! well-known public lists (RockYou, the SplashData/NordPass yearly lists, the NCSC top passwords),
//! keyboard walks and repeated digits, and words Vietnamese users pick (`matkhau`, `anhyeuem`, place
//! names, common names, banks, games), all without accents and in lowercase.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use anyhow::{Context, anyhow};
use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier as _, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

/// OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1.
pub const OWASP_M_KIB: u32 = 19 * 1024;
pub const OWASP_T: u32 = 2;
pub const OWASP_P: u32 = 1;

/// Length limits in characters (not bytes: a Vietnamese letter is 2–3 bytes in UTF-8).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Generous for passphrases; the bound is there so nobody posts a megabyte to be hashed.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Hashes and verifies passwords off the async executor, at most `permits` at a time.
/// Cloning is cheap: clones share the permits and the dummy hash.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    total_permits: usize,
    params: Params,
    /// Verified against when there is no hash (unknown e-mail, account without a password), so
    /// that a login costs the same whether the account exists or not.
    dummy_phc: Arc<str>,
    #[cfg(test)]
    probe: Arc<test_probe::Probe>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_kib", &self.params.m_cost())
            .field("t", &self.params.t_cost())
            .field("p", &self.params.p_cost())
            .field("permits", &self.total_permits)
            .finish()
    }
}

impl PasswordHasher {
    /// Production parameters (the OWASP minimum), one permit per core.
    ///
    /// Computes the dummy hash once (one full hash, tens of milliseconds): build the hasher at
    /// startup and clone it into the app state.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_params(OWASP_M_KIB, OWASP_T, OWASP_P, default_permits())
    }

    /// Any parameters (tests use light ones) and any number of concurrent hashes (at least 1).
    pub fn with_params(m_kib: u32, t: u32, p: u32, permits: usize) -> anyhow::Result<Self> {
        let params = Params::new(m_kib, t, p, None)
            .map_err(|e| anyhow!("invalid argon2 parameters m={m_kib} KiB t={t} p={p}: {e}"))?;
        let permits = permits.max(1);
        // A random password: nobody knows it, so the dummy can never verify even by accident.
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let dummy_phc =
            hash_blocking(&params, &secret).context("computing the dummy password hash")?;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(permits)),
            total_permits: permits,
            params,
            dummy_phc: dummy_phc.into(),
            #[cfg(test)]
            probe: Arc::default(),
        })
    }

    /// `(m_kib, t, p)` used for new hashes.
    pub fn params(&self) -> (u32, u32, u32) {
        (
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
        )
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.total_permits
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for a new or changed password.
    /// The caller checks [`check_policy`] first.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.run_limited(move || hash_blocking(&params, normalize(&password).as_bytes()))
            .await
            .context("hashing a password")
    }

    /// Whether `password` matches `phc`. With `phc` = None (unknown account, or no password set
    /// yet) the dummy hash is verified instead and the answer is false, so both cost one hash.
    /// A stored hash that does not parse is an error, not a "wrong password".
    pub async fn verify(&self, password: String, phc: Option<String>) -> anyhow::Result<bool> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_phc.to_string());
        let matches = self
            .run_limited(move || verify_blocking(normalize(&password).as_bytes(), &phc))
            .await
            .context("verifying a password")?;
        Ok(known && matches)
    }

    /// Whether a stored hash was made with weaker settings than the current ones (another
    /// algorithm, or lower m, t or p), so it should be replaced after a successful login.
    /// A string that does not parse also needs replacing.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(params) = Params::try_from(&hash) else {
            return true;
        };
        hash.algorithm != Algorithm::Argon2id.ident()
            || hash.version != Some(Version::V0x13.into())
            || params.m_cost() < self.params.m_cost()
            || params.t_cost() < self.params.t_cost()
            || params.p_cost() < self.params.p_cost()
    }

    /// Waits for a permit, then runs `work` on the blocking pool. The permit moves into the
    /// blocking closure: if the request is dropped while hashing, the hash still finishes on its
    /// thread, and the permit must stay taken until it does or the bound would not hold.
    async fn run_limited<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> anyhow::Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .context("the password hashing pool is closed")?;
        #[cfg(test)]
        let probe = Arc::clone(&self.probe);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            let _inside = probe.enter();
            work()
        })
        .await
        .context("the password hashing task panicked")?
    }
}

/// One permit per core: more would only queue inside the OS scheduler and multiply the memory.
pub fn default_permits() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// NIST SP 800-63B asks for NFKC or NFKD before hashing: the same Vietnamese password typed on
/// two keyboards can arrive precomposed or with combining marks.
fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Hashes on the calling thread with the production parameters: for start-up and command-line
/// code that is not serving requests (the demo accounts), never for a request handler.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    let params = Params::new(OWASP_M_KIB, OWASP_T, OWASP_P, None)
        .map_err(|e| anyhow!("invalid argon2 parameters: {e}"))?;
    hash_blocking(&params, normalize(password).as_bytes())
}

fn hash_blocking(params: &Params, password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("encoding the salt: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let phc = argon
        .hash_password(password, &salt)
        .map_err(|e| anyhow!("argon2: {e}"))?;
    Ok(phc.to_string())
}

fn verify_blocking(password: &[u8], phc: &str) -> anyhow::Result<bool> {
    let hash = PasswordHash::new(phc)
        .map_err(|e| anyhow!("the stored password hash does not parse: {e}"))?;
    // The parameters come from the stored hash, so older (weaker) hashes still verify.
    match Argon2::default().verify_password(password, &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(anyhow!("argon2: {e}")),
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password is shorter than {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password is longer than {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password is in the list of common passwords")]
    Common,
    #[error("the password contains the e-mail address, phone number or ID number")]
    ContainsPersonalInfo,
}

impl PasswordProblem {
    /// The message catalogue key shown next to the password field.
    pub fn message_key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password_too_short",
            PasswordProblem::TooLong => "password_too_long",
            PasswordProblem::Common => "password_common",
            PasswordProblem::ContainsPersonalInfo => "password_personal",
        }
    }
}

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Shorter context values are skipped: refusing every password that contains "an" or "123"
/// would refuse good passwords without protecting anyone.
const MIN_CONTEXT_CHARS: usize = 4;

/// Checks a new password. `context` holds what an attacker who targets this person knows: the
/// e-mail address (or its local part), the phone number, the CCCD number.
///
/// Comparisons ignore case, accents, spaces and separators, so "Anh Yêu Em 2024!" is refused as
/// common and "Nguyen.Van.A-1990" is refused for the address nguyen.van.a@….
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), PasswordProblem> {
    let password = normalize(password);
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if is_common(&password) {
        return Err(PasswordProblem::Common);
    }
    let folded = alphanumeric(&fold(&password));
    if context_terms(context).any(|term| folded.contains(&term)) {
        return Err(PasswordProblem::ContainsPersonalInfo);
    }
    Ok(())
}

/// The password as typed (lowercased), without accents and spaces, with trailing digits and
/// symbols stripped ("matkhau2024!" is "matkhau"), and with common letter substitutions undone
/// ("p@ssw0rd" is "password"). Any of them in the list makes the password common.
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let folded: String = fold(&lower)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let stripped = folded.trim_end_matches(|c: char| !c.is_alphabetic());
    let unleeted = unleet(stripped);
    [lower.as_str(), folded.as_str(), stripped, unleeted.as_str()]
        .iter()
        .any(|v| !v.is_empty() && COMMON_PASSWORDS.contains(v))
}

/// Lowercase, without Vietnamese (or any) accents: "Mật Khẩu Đẹp" is "mat khau dep".
fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

fn alphanumeric(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '0' => 'o',
            '3' => 'e',
            '$' | '5' => 's',
            '7' => 't',
            '!' => 'i',
            other => other,
        })
        .collect()
}

/// The folded forms of the context values worth looking for: an address becomes its local part
/// (and, for "an.nguyen+dvc@…", also the part before the `+`); a phone number also yields its
/// last nine digits, so "+84 912 345 678" catches "0912345678".
fn context_terms<'a>(context: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    context.iter().flat_map(|value| {
        let local = value.split('@').next().unwrap_or(value);
        let term = alphanumeric(&fold(local));
        let before_plus = local
            .split_once('+')
            .map(|(head, _)| alphanumeric(&fold(head)));
        let digits: String = term.chars().filter(char::is_ascii_digit).collect();
        let subscriber = (digits.len() == term.len() && digits.len() > 9)
            .then(|| digits[digits.len() - 9..].to_string());
        std::iter::once(term)
            .chain(before_plus)
            .chain(subscriber)
            .filter(|t| t.chars().count() >= MIN_CONTEXT_CHARS)
    })
}

#[cfg(test)]
mod test_probe {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Counts the argon2 computations running now, the most seen at once, and all of them.
    #[derive(Default)]
    pub(super) struct Probe {
        pub in_flight: AtomicUsize,
        pub max_in_flight: AtomicUsize,
        pub runs: AtomicUsize,
        /// Keeps each computation "running" a little longer so that overlaps are certain.
        pub hold_ms: AtomicUsize,
    }

    pub(super) struct Inside<'a>(&'a Probe);

    impl Probe {
        pub fn enter(&self) -> Inside<'_> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            self.runs.fetch_add(1, Ordering::SeqCst);
            let hold = self.hold_ms.load(Ordering::SeqCst) as u64;
            std::thread::sleep(Duration::from_millis(hold));
            Inside(self)
        }
    }

    impl Drop for Inside<'_> {
        fn drop(&mut self) {
            self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    /// Light enough that a debug-build test hashes in a millisecond or two.
    fn light(permits: usize) -> PasswordHasher {
        PasswordHasher::with_params(256, 1, 1, permits).expect("light parameters")
    }

    #[test]
    fn production_parameters_meet_owasp() {
        const { assert!(OWASP_M_KIB >= 19 * 1024 && OWASP_T >= 2 && OWASP_P >= 1) };
        let hasher = PasswordHasher::new().expect("production parameters");
        let (m, t, p) = hasher.params();
        assert!(m >= 19 * 1024, "m = {m} KiB");
        assert!(t >= 2, "t = {t}");
        assert!(p >= 1, "p = {p}");
        assert_eq!(hasher.permits(), default_permits());
        assert!(
            hasher
                .dummy_phc
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = light(2);
        let phc = hasher.hash("một mật khẩu dài".into()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("một mật khẩu dài".into(), Some(phc.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("một mật khẩu dai".into(), Some(phc.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(String::new(), Some(phc))
                .await
                .expect("verify")
        );
        // Salted: the same password never gives the same string twice.
        let again = hasher.hash("một mật khẩu dài".into()).await.expect("hash");
        assert_ne!(
            again,
            hasher.hash("một mật khẩu dài".into()).await.expect("hash")
        );
    }

    #[tokio::test]
    async fn precomposed_and_combining_accents_are_the_same_password() {
        let hasher = light(1);
        let nfc = "mật khẩu của tôi";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc.as_bytes(), nfd.as_bytes());
        let phc = hasher.hash(nfc.into()).await.expect("hash");
        assert!(hasher.verify(nfd, Some(phc)).await.expect("verify"));
    }

    #[tokio::test]
    async fn unknown_account_costs_one_hash_and_never_matches() {
        let hasher = light(1);
        let before = hasher.probe.runs.load(Ordering::SeqCst);
        assert!(
            !hasher
                .verify("anything at all".into(), None)
                .await
                .expect("verify")
        );
        assert_eq!(hasher.probe.runs.load(Ordering::SeqCst), before + 1);
        // The dummy is a real hash with the same parameters, so verifying it costs the same.
        let (m, t, p) = hasher.params();
        assert!(
            hasher
                .dummy_phc
                .starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$"))
        );
        assert!(!hasher.needs_rehash(&hasher.dummy_phc));
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error() {
        let hasher = light(1);
        assert!(
            hasher
                .verify("a password".into(), Some("not a hash".into()))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn weaker_hashes_verify_and_need_rehash() {
        let weak = PasswordHasher::with_params(128, 1, 1, 1).expect("light parameters");
        let current = light(1);
        let old = weak
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(
            current
                .verify("correct horse battery".into(), Some(old.clone()))
                .await
                .expect("verify")
        );
        assert!(current.needs_rehash(&old));
        let fresh = current
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(!current.needs_rehash(&fresh));
        // Stronger than current is fine too.
        let strong = PasswordHasher::with_params(512, 2, 1, 1).expect("light parameters");
        assert!(!current.needs_rehash(&strong.hash("x".into()).await.expect("hash")));
        // Other algorithms and garbage are replaced.
        assert!(
            current.needs_rehash("$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
        );
        assert!(
            current.needs_rehash("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")
        );
        assert!(current.needs_rehash(""));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hashes_never_exceed_the_permits() {
        let hasher = light(3);
        hasher.probe.hold_ms.store(15, Ordering::SeqCst);
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(format!("password number {i}")).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("hash");
        }
        let max = hasher.probe.max_in_flight.load(Ordering::SeqCst);
        assert_eq!(hasher.probe.runs.load(Ordering::SeqCst), 12);
        // Twelve waiting and a 15 ms hold: all three permits were in use at once, never a fourth.
        assert_eq!(max, 3);
        assert_eq!(hasher.permits.available_permits(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_keeps_its_permit_until_the_hash_ends() {
        let hasher = light(1);
        hasher.probe.hold_ms.store(100, Ordering::SeqCst);
        let slow = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            hasher.hash("abandoned".into()),
        );
        assert!(slow.await.is_err(), "the hash should still be running");
        // The abandoned hash is still on its thread: the permit is not back yet.
        assert_eq!(hasher.permits.available_permits(), 0);
        hasher.probe.hold_ms.store(0, Ordering::SeqCst);
        hasher.hash("next one".into()).await.expect("hash");
        assert_eq!(hasher.probe.max_in_flight.load(Ordering::SeqCst), 1);
        assert_eq!(hasher.permits.available_permits(), 1);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Nine Vietnamese characters are 16 bytes of UTF-8, still too short.
        assert_eq!(
            check_policy("mậtkhẩuđẹ", &[]),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!("mậtkhẩuđẹ".len(), 16);
        assert_eq!(check_policy("ngựa ô xéo", &[]), Ok(()));
        // Combining accents count as one character each letter, like the precomposed form.
        let nfd: String = "ngựa ô xéo".nfd().collect();
        assert_eq!(check_policy(&nfd, &[]), Ok(()));
        assert_eq!(check_policy(&"ạ".repeat(128), &[]), Ok(()));
        assert_eq!(
            check_policy(&"ạ".repeat(129), &[]),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(check_policy("", &[]), Err(PasswordProblem::TooShort));
    }

    #[test]
    fn common_passwords_are_refused_in_their_usual_disguises() {
        for common in [
            "1234567890",
            "qwertyuiop",
            "iloveyou123",
            "Password123!",
            "MATKHAU2024",
            "matkhau@123",
            "anhyeuem1234",
            "Anh Yêu Em 2024!",
            "mật khẩu 123456",
            "vietnam12345",
            "Hà Nội 1234567",
            "p@ssw0rd2024",
            "1qaz2wsx3edc",
            "0000000000",
            "correct horse battery staple",
        ] {
            assert_eq!(
                check_policy(common, &[]),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
        for fine in [
            "ngựa ô xéo",
            "con mèo trèo cây cau",
            "tr0ub4dor&3xyz",
            "bốn con ngựa đi ăn phở",
        ] {
            assert_eq!(check_policy(fine, &[]), Ok(()), "{fine}");
        }
    }

    #[test]
    fn personal_information_is_refused() {
        let ctx = [
            "tran.minh.khoa@example.vn",
            "+84 912 345 678",
            "001099012345",
        ];
        assert_eq!(
            check_policy("Tran.Minh.Khoa-1990", &ctx),
            Err(PasswordProblem::ContainsPersonalInfo)
        );
        assert_eq!(
            check_policy("TrầnMinhKhoa!!", &ctx),
            Err(PasswordProblem::ContainsPersonalInfo)
        );
        assert_eq!(
            check_policy("goi 0912345678 nhe", &ctx),
            Err(PasswordProblem::ContainsPersonalInfo)
        );
        assert_eq!(
            check_policy("so cccd 001099012345", &ctx),
            Err(PasswordProblem::ContainsPersonalInfo)
        );
        assert_eq!(check_policy("ngựa ô xéo", &ctx), Ok(()));
        let tagged = ["khai.duong+dichvucong@example.vn"];
        assert_eq!(
            check_policy("Khải Dương 2024!!", &tagged),
            Err(PasswordProblem::ContainsPersonalInfo)
        );
        // Too short to mean anything: not checked.
        assert_eq!(
            check_policy("an toàn là trên hết", &["an@example.vn", ""]),
            Ok(())
        );
    }

    #[test]
    fn every_problem_has_a_message_in_both_catalogues() {
        let catalogues = [
            include_str!("../../locales/vi.json"),
            include_str!("../../locales/en.json"),
        ];
        for problem in [
            PasswordProblem::TooShort,
            PasswordProblem::TooLong,
            PasswordProblem::Common,
            PasswordProblem::ContainsPersonalInfo,
        ] {
            let key = format!("\"{}\":", problem.message_key());
            assert!(catalogues.iter().all(|c| c.contains(&key)), "{key}");
        }
    }

    #[test]
    fn the_common_list_is_clean() {
        let text = include_str!("../../data/common-passwords.txt");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            (1_000..=10_000).contains(&lines.len()),
            "{} lines",
            lines.len()
        );
        assert_eq!(
            COMMON_PASSWORDS.len(),
            lines.len(),
            "duplicates or blank lines"
        );
        for line in &lines {
            assert_eq!(
                *line,
                line.trim().to_lowercase(),
                "not trimmed lowercase: {line:?}"
            );
            assert!(
                line.is_ascii(),
                "accents are folded before lookup: {line:?}"
            );
        }
        for must in [
            "123456",
            "password",
            "matkhau",
            "123456789",
            "anhyeuem",
            "iloveyou",
            "vietnam",
            "hanoi",
        ] {
            assert!(COMMON_PASSWORDS.contains(must), "{must}");
        }
    }
}
