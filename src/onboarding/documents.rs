//! Qualification documents: what a brand files to show it may sell the
//! brand (its trademark registration, the owner's authorisation with its
//! chain, its business licence), the file checks on upload, a reviewer's
//! verdict, and the one rule that says whether an application's
//! qualifications satisfy its category's policy ([`gaps`]).

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    application, application_document as document,
    enums::{DocumentKind, DocumentRejection, DocumentState, TrademarkStatus},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, TransactionTrait as _,
};

use super::{Action, OnboardingError, Step, get as get_application, invalid, mark, text};
use crate::{
    auth::{BrandScope, Caller},
    blobs::BlobStore,
    brands::scoped,
    platform::business_day,
};

/// Most parties in an authorisation chain (owner, up to three
/// distributors, the applicant).
pub const MAX_CHAIN: usize = 5;

/// Media types accepted, recognised by their first bytes (the name and the
/// declared type are not trusted).
const SIGNATURES: [(&[u8], &str); 3] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
];

/// Where filed documents go, and how large one may be.
#[derive(Debug, Clone)]
pub struct DocumentStore {
    /// The blob store.
    pub blobs: BlobStore,
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
}

/// A document as the brand files it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// What it is.
    pub kind: DocumentKind,
    /// Registered or filed (trademarks only).
    pub trademark_status: Option<TrademarkStatus>,
    /// Registration number, licence code (unified social credit code) or
    /// authorisation reference.
    pub number: String,
    /// Who it names: the trademark owner, the licensed company, the
    /// authorised company.
    pub holder: String,
    /// Nice class (1–45; trademarks only).
    pub nice_class: Option<i32>,
    /// Authorisations only: every party from the trademark owner to the
    /// authorised company, in order.
    pub chain: Vec<String>,
    /// Last valid day (Asia/Shanghai), if it expires.
    pub expires_on: Option<NaiveDate>,
    /// The uploaded file's name.
    pub file_name: String,
    /// The file.
    pub content: Vec<u8>,
}

/// A reviewer's verdict on a document.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The document is genuine and says what the brand stated.
    Verify,
    /// Refused, with a reason (and a note, required for `OTHER`).
    Reject(DocumentRejection, Option<String>),
}

/// The media type of `content`, if it is one accepted.
fn detect(content: &[u8]) -> Option<&'static str> {
    SIGNATURES
        .iter()
        .find(|(magic, _)| content.starts_with(magic))
        .map(|(_, media)| *media)
}

/// The characters of a unified social credit code (GB 32100-2015), in
/// value order.
const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Whether `code` is an 18-character unified social credit code with a
/// valid check character.
fn is_credit_code(code: &str) -> bool {
    let values: Option<Vec<u32>> = code
        .chars()
        .map(|c| USCC_CHARS.find(c).and_then(|v| u32::try_from(v).ok()))
        .collect();
    let Some(values) = values.filter(|v| v.len() == 18) else {
        return false;
    };
    let mut weight = 1;
    let mut sum = 0;
    for value in &values[..17] {
        sum += value * weight;
        weight = weight * 3 % 31;
    }
    (31 - sum % 31) % 31 == values[17]
}

/// The file name without any path, or `document`.
fn plain_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." {
        "document".to_owned()
    } else {
        base.chars().take(255).collect()
    }
}

/// Checks a filed document and returns its detected media type.
pub fn check(
    new: &NewDocument,
    today: NaiveDate,
    max_bytes: usize,
) -> Result<&'static str, OnboardingError> {
    short_text("number", &new.number, 64)?;
    short_text("holder", &new.holder, 200)?;
    let trademark = new.kind == DocumentKind::TrademarkRegistration;
    if new.trademark_status.is_some() != trademark {
        return Err(invalid(
            "trademarkStatus",
            "is required for a trademark registration and only for it",
        ));
    }
    if new.nice_class.is_some() != trademark {
        return Err(invalid(
            "niceClass",
            "is required for a trademark registration and only for it",
        ));
    }
    if new
        .nice_class
        .is_some_and(|class| !(1..=45).contains(&class))
    {
        return Err(invalid("niceClass", "must be a Nice class, 1 to 45"));
    }
    match new.kind {
        DocumentKind::BrandAuthorization => {
            if !(2..=MAX_CHAIN).contains(&new.chain.len()) {
                return Err(invalid(
                    "chain",
                    &format!("must name 2 to {MAX_CHAIN} parties, the trademark owner first"),
                ));
            }
            for party in &new.chain {
                short_text("chain", party, 200)?;
            }
            if new.chain.last().map(|p| same_party(p, &new.holder)) != Some(true) {
                return Err(invalid(
                    "chain",
                    "must end with the authorised company, the `holder`",
                ));
            }
        }
        _ if !new.chain.is_empty() => {
            return Err(invalid("chain", "is only for a brand authorisation"));
        }
        _ => {}
    }
    if new.kind == DocumentKind::BusinessLicense && !is_credit_code(new.number.trim()) {
        return Err(invalid(
            "number",
            "must be the licence's 18-character unified social credit code",
        ));
    }
    let expires_needed = matches!(
        (new.kind, new.trademark_status),
        (DocumentKind::BrandAuthorization, _)
            | (
                DocumentKind::TrademarkRegistration,
                Some(TrademarkStatus::Registered)
            )
    );
    match new.expires_on {
        None if expires_needed => {
            return Err(invalid(
                "expiresOn",
                "is required: registrations and authorisations expire",
            ));
        }
        Some(day) if day < today => return Err(invalid("expiresOn", "is in the past")),
        _ => {}
    }
    if new.content.is_empty() || new.content.len() > max_bytes {
        return Err(invalid(
            "file",
            &format!("must be 1 byte to {} KiB", max_bytes / 1024),
        ));
    }
    detect(&new.content).ok_or_else(|| invalid("file", "must be a PDF, PNG or JPEG file"))
}

fn short_text(field: &'static str, value: &str, max: usize) -> Result<(), OnboardingError> {
    let chars = value.trim().chars().count();
    if chars == 0 || chars > max {
        return Err(invalid(field, &format!("must be 1 to {max} characters")));
    }
    Ok(())
}

/// Whether two names are the same party (case and surrounding space aside).
fn same_party(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Files a document with an application of the caller's brand: the file is
/// checked, stored under its hash, and recorded with a timeline event.
pub async fn file(
    db: &DatabaseConnection,
    store: &DocumentStore,
    caller: &Caller,
    application_id: i64,
    new: NewDocument,
) -> Result<document::Model, OnboardingError> {
    let current = get_application(db, caller.scope, application_id).await?;
    if !Action::FileDocument.allowed_from(current.state) {
        return Err(OnboardingError::IllegalTransition {
            action: Action::FileDocument,
            state: current.state,
        });
    }
    let media = check(&new, business_day(caller.now), store.max_bytes)?;
    let size = i64::try_from(new.content.len()).unwrap_or(i64::MAX);
    let sha256 = store.blobs.put(new.content).await?;
    let chain = (!new.chain.is_empty()).then(|| {
        serde_json::to_string(
            &new.chain
                .iter()
                .map(|p| p.trim().to_owned())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    });
    let txn = db.begin().await?;
    let id = document::Entity::insert(document::ActiveModel {
        application_id: Set(current.id),
        brand_id: Set(current.brand_id),
        kind: Set(new.kind),
        trademark_status: Set(new.trademark_status),
        number: Set(new.number.trim().to_owned()),
        holder: Set(new.holder.trim().to_owned()),
        nice_class: Set(new.nice_class),
        chain: Set(chain),
        expires_on: Set(new.expires_on),
        file_name: Set(plain_name(&new.file_name)),
        content_type: Set(media.to_owned()),
        size_bytes: Set(size),
        sha256: Set(sha256),
        state: Set(DocumentState::Pending),
        rejection: Set(None),
        review_note: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        uploaded_by: Set(caller.subject.clone()),
        uploaded_at: Set(caller.now),
        warned_expires_on: Set(None),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    let note = format!(
        "document {id}: {} {}",
        kind_name(new.kind),
        new.number.trim()
    );
    let step = Step::marking(Action::FileDocument, &current, note);
    mark(&txn, &current, &step, &caller.subject, caller.now).await?;
    txn.commit().await?;
    get(db, BrandScope::All, id).await
}

/// A kind's stored (and wire) name.
pub fn kind_name(kind: DocumentKind) -> String {
    sea_orm::ActiveEnum::to_value(&kind)
}

/// Verifies or rejects a pending document (a reviewer); recorded on the
/// application's timeline and announced to the brand.
pub async fn review(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    verdict: Verdict,
) -> Result<document::Model, OnboardingError> {
    let current = get(db, caller.scope, id).await?;
    let (state, rejection, note, action) = match verdict {
        Verdict::Verify => (DocumentState::Verified, None, None, Action::VerifyDocument),
        Verdict::Reject(reason, note) => {
            let note = note.as_deref().map(|n| text("note", n)).transpose()?;
            if reason == DocumentRejection::Other && note.is_none() {
                return Err(invalid("note", "must say why, for the reason OTHER"));
            }
            (
                DocumentState::Rejected,
                Some(reason),
                note,
                Action::RejectDocument,
            )
        }
    };
    let application = get_application(db, BrandScope::All, current.application_id).await?;
    let txn = db.begin().await?;
    let updated = document::Entity::update_many()
        .set(document::ActiveModel {
            state: Set(state),
            rejection: Set(rejection),
            review_note: Set(note.clone()),
            reviewed_by: Set(Some(caller.subject.clone())),
            reviewed_at: Set(Some(caller.now)),
            ..Default::default()
        })
        .filter(document::Column::Id.eq(id))
        .filter(document::Column::State.eq(DocumentState::Pending))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(OnboardingError::AlreadyReviewed(id));
    }
    let why = rejection.map_or_else(String::new, |r| {
        format!(" ({})", sea_orm::ActiveEnum::to_value(&r))
    });
    let note = match note {
        Some(note) => format!("document {id}{why}: {note}"),
        None => format!("document {id}{why}"),
    };
    let step = Step::marking(action, &application, note);
    mark(&txn, &application, &step, &caller.subject, caller.now).await?;
    txn.commit().await?;
    get(db, BrandScope::All, id).await
}

/// One document, if the caller may see its brand.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<document::Model, OnboardingError> {
    scoped(
        document::Entity::find_by_id(id),
        document::Column::BrandId,
        scope,
    )
    .one(db)
    .await?
    .ok_or(OnboardingError::DocumentNotFound)
}

/// The documents of many applications, oldest first, in one query.
pub async fn of_applications(
    db: &impl ConnectionTrait,
    application_ids: &[i64],
) -> Result<Vec<document::Model>, sea_orm::DbErr> {
    document::Entity::find()
        .filter(document::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(document::Column::Id)
        .all(db)
        .await
}

/// What keeps a required qualification from counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Nothing of this kind was filed.
    Missing,
    /// Filed, not yet reviewed.
    Pending,
    /// Filed and refused.
    Rejected,
    /// Verified, but past its last valid day.
    Expired,
    /// The trademark's owner is not the licensed company, and no verified
    /// authorisation chain leads from one to the other.
    ChainMismatch,
}

/// A required qualification that does not count yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The kind.
    pub kind: DocumentKind,
    /// Why it does not count.
    pub problem: Problem,
}

/// Whether a document counts on `today`: verified and not past its last day.
fn valid(doc: &document::Model, today: NaiveDate) -> bool {
    doc.state == DocumentState::Verified && doc.expires_on.is_none_or(|last| last >= today)
}

/// What keeps `documents` from satisfying `required` on `today`: the one
/// rule approval, re-evaluation and the reviewer's checklist all use.
/// When a trademark registration is required and its owner is not the
/// licensed company, a verified authorisation whose chain runs from the
/// owner to that company is required too.
pub fn gaps(
    required: &[DocumentKind],
    documents: &[document::Model],
    today: NaiveDate,
) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let best = |kind: DocumentKind| {
        documents
            .iter()
            .rev()
            .find(|d| d.kind == kind && valid(d, today))
    };
    for kind in required {
        if best(*kind).is_some() {
            continue;
        }
        let of_kind = || documents.iter().filter(|d| d.kind == *kind);
        let problem = if of_kind().any(|d| d.state == DocumentState::Verified) {
            Problem::Expired
        } else if of_kind().any(|d| d.state == DocumentState::Pending) {
            Problem::Pending
        } else if of_kind().any(|d| d.state == DocumentState::Rejected) {
            Problem::Rejected
        } else {
            Problem::Missing
        };
        gaps.push(Gap {
            kind: *kind,
            problem,
        });
    }
    if required.contains(&DocumentKind::TrademarkRegistration) {
        let owner = best(DocumentKind::TrademarkRegistration);
        let company = best(DocumentKind::BusinessLicense);
        if let (Some(owner), Some(company)) = (owner, company) {
            let linked = documents.iter().any(|d| {
                d.kind == DocumentKind::BrandAuthorization
                    && valid(d, today)
                    && chain_links(d, &owner.holder, &company.holder)
            });
            if !same_party(&owner.holder, &company.holder) && !linked {
                gaps.push(Gap {
                    kind: DocumentKind::BrandAuthorization,
                    problem: Problem::ChainMismatch,
                });
            }
        }
    }
    gaps
}

/// Whether an authorisation's chain starts at `owner` and ends at `company`.
fn chain_links(doc: &document::Model, owner: &str, company: &str) -> bool {
    let chain: Vec<String> = doc
        .chain
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    chain.first().is_some_and(|p| same_party(p, owner))
        && chain.last().is_some_and(|p| same_party(p, company))
}

/// A category's required documents in force and the gaps `documents` leave
/// on `now`'s business day: what the reviewer's checklist shows and what
/// [`gaps_of`] judges by.
pub async fn checklist(
    db: &impl ConnectionTrait,
    category_id: i64,
    documents: &[document::Model],
    now: DateTime<Utc>,
) -> Result<(Vec<DocumentKind>, Vec<Gap>), sea_orm::DbErr> {
    let required = crate::criteria::policy::current(db, category_id)
        .await?
        .required_documents;
    let gaps = gaps(&required, documents, business_day(now));
    Ok((required, gaps))
}

/// The gaps of one application against its category's policy in force:
/// [`checklist`] on the application's documents.
pub async fn gaps_of(
    db: &impl ConnectionTrait,
    application: &application::Model,
    now: DateTime<Utc>,
) -> Result<Vec<Gap>, sea_orm::DbErr> {
    let documents = of_applications(db, &[application.id]).await?;
    Ok(checklist(db, application.category_id, &documents, now)
        .await?
        .1)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn credit_codes_carry_their_check_character() {
        // A published example code, and the same with its check character changed.
        assert!(is_credit_code("91350100M000100Y43"));
        assert!(!is_credit_code("91350100M000100Y44"));
        assert!(!is_credit_code("91350100M000100Y4"));
        assert!(
            !is_credit_code("91350100M000100I43"),
            "I is not a code character"
        );
    }

    #[test]
    fn files_are_recognised_by_their_content() {
        assert_eq!(detect(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\nIHDR"), Some("image/png"));
        assert_eq!(detect(b"\xff\xd8\xff\xe0JFIF"), Some("image/jpeg"));
        assert_eq!(detect(b"MZ\x90\x00"), None);
        assert_eq!(plain_name("C:\\scans\\licence.pdf"), "licence.pdf");
        assert_eq!(plain_name("../../etc/passwd"), "passwd");
        assert_eq!(plain_name(" .. "), "document");
    }

    fn doc(kind: DocumentKind, state: DocumentState, holder: &str) -> document::Model {
        document::Model {
            id: 1,
            application_id: 1,
            brand_id: 1,
            kind,
            trademark_status: None,
            number: "1".to_owned(),
            holder: holder.to_owned(),
            nice_class: None,
            chain: None,
            expires_on: None,
            file_name: "f.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            size_bytes: 1,
            sha256: String::new(),
            state,
            rejection: None,
            review_note: None,
            reviewed_by: None,
            reviewed_at: None,
            uploaded_by: "brand".to_owned(),
            uploaded_at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
            warned_expires_on: None,
        }
    }

    #[test]
    fn gaps_name_what_keeps_each_requirement_from_counting() {
        use DocumentKind::*;
        use DocumentState::*;
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).expect("day");
        let required = [BusinessLicense, TrademarkRegistration];
        let problems = |docs: &[document::Model]| -> Vec<(DocumentKind, Problem)> {
            gaps(&required, docs, today)
                .into_iter()
                .map(|g| (g.kind, g.problem))
                .collect()
        };
        assert_eq!(
            problems(&[]),
            [
                (BusinessLicense, Problem::Missing),
                (TrademarkRegistration, Problem::Missing)
            ]
        );
        let licence = doc(BusinessLicense, Verified, "Acme Trading Co.");
        let mut expired = doc(TrademarkRegistration, Verified, "Acme Trading Co.");
        expired.expires_on = today.pred_opt();
        assert_eq!(
            problems(&[licence.clone(), expired.clone()]),
            [(TrademarkRegistration, Problem::Expired)]
        );
        let mut last_day = expired.clone();
        last_day.expires_on = Some(today);
        assert_eq!(problems(&[licence.clone(), last_day]), []);
        assert_eq!(
            problems(&[
                doc(BusinessLicense, Rejected, "x"),
                doc(TrademarkRegistration, Pending, "y")
            ]),
            [
                (BusinessLicense, Problem::Rejected),
                (TrademarkRegistration, Problem::Pending)
            ]
        );
        // Another company owns the mark: the authorisation chain must link them.
        let owned = doc(TrademarkRegistration, Verified, "Acme Holdings Ltd.");
        assert_eq!(
            problems(&[licence.clone(), owned.clone()]),
            [(BrandAuthorization, Problem::ChainMismatch)]
        );
        let mut authorisation = doc(BrandAuthorization, Verified, "Acme Trading Co.");
        authorisation.chain =
            Some(r#"["acme holdings ltd.","Acme Distribution","Acme Trading Co."]"#.to_owned());
        assert_eq!(
            problems(&[licence.clone(), owned.clone(), authorisation.clone()]),
            []
        );
        authorisation.chain = Some(r#"["Someone Else","Acme Trading Co."]"#.to_owned());
        assert_eq!(
            problems(&[licence, owned, authorisation]),
            [(BrandAuthorization, Problem::ChainMismatch)]
        );
    }
}
