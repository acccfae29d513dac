//! `import`: loads platform data from a directory of CSV files, one per
//! table, in one transaction. Every row is checked (types, vocabularies,
//! programme rules, references, duplicates) and the first bad one stops the
//! import with its file, line and column; the database is left as it was.
//!
//! Files and columns (a header row is required; see README):
//! `categories.csv` id,code,name · `brands.csv` id,name,category_code,status ·
//! `members.csv` id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents[,birth_date] ·
//! `member_interests.csv` member_id,interest · `member_services.csv` member_id,service ·
//! `paid_renewals.csv` member_id,due_on,renewed ·
//! `store_memberships.csv` brand_id,member_id,joined_on ·
//! `category_sales.csv` brand_id,month,gmv_cents,refund_cents,orders ·
//! `sku_prices.csv` brand_id,sku,day,price_cents,units ·
//! `social_mentions.csv` brand_id,period_start,voluntary,paid.
//! The first three are required, the rest optional. Interests and services
//! are packed into their member's row, so their files are read (and their
//! codes checked) right after `members.csv`'s header, before its rows.

use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use chrono::{Datelike as _, NaiveDate, Utc};
use entity::{
    brand, category, category_sales, enums::BrandStatus, member, paid_renewal, sku_price,
    social_mention, store_membership,
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    blobs::BlobStore,
    error::{CodedError, ErrorCode},
    platform::{self, MemberRuleError},
    platform_data::{self, Batch, LoadTransaction, PlatformWriter, Row, RowCounts},
    progress::Progress,
    snapshot::SnapshotError,
};

/// What was imported and how long it took.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Rows per table.
    pub rows: RowCounts,
    /// Wall-clock time of the data load.
    pub elapsed: Duration,
    /// The audience cube built from it.
    pub cube: crate::segments::cube::RefreshReport,
}

/// Why an import failed; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A required file is missing.
    #[error("{0}: required file is missing")]
    MissingFile(PathBuf),
    /// A file could not be read.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A bad value, naming where it is.
    #[error("{file}, line {line}, column `{column}`: {message}")]
    Row {
        /// The file.
        file: PathBuf,
        /// 1-based line, the header being line 1.
        line: u64,
        /// The column's header name.
        column: String,
        /// What is wrong with the value.
        message: String,
    },
    /// Platform data exists and `replace` was not asked for.
    #[error("the database already holds platform data; pass --replace to overwrite it")]
    NotEmpty,
    /// Storage failed.
    #[error("database error while importing: {0}")]
    Db(#[from] DbErr),
    /// The member snapshot or the cube built from it failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

impl CodedError for ImportError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotEmpty => ErrorCode::Conflict,
            Self::Db(_) | Self::Snapshot(_) => ErrorCode::Internal,
            _ => ErrorCode::BadUserInput,
        }
    }
}

/// A rejected value: which column and why.
struct Reject {
    column: &'static str,
    message: String,
}

fn reject(column: &'static str, message: impl Into<String>) -> Reject {
    Reject {
        column,
        message: message.into(),
    }
}

/// Why a row whose key appeared before is refused.
const DUPLICATE_ROW: &str = "duplicate row: this key already appeared earlier in the file";

/// Requires a unique key, naming the column that repeats it.
fn unique<K: Hash + Eq>(seen: &mut HashSet<K>, key: K, column: &'static str) -> Result<(), Reject> {
    if seen.insert(key) {
        Ok(())
    } else {
        Err(reject(column, DUPLICATE_ROW))
    }
}

fn known<K: Hash + Eq>(
    set: &HashSet<K>,
    key: &K,
    column: &'static str,
    what: &str,
) -> Result<(), Reject> {
    if set.contains(key) {
        Ok(())
    } else {
        Err(reject(column, format!("unknown {what}")))
    }
}

fn non_negative(value: i64, column: &'static str) -> Result<i64, Reject> {
    if value >= 0 {
        Ok(value)
    } else {
        Err(reject(column, "must be 0 or more"))
    }
}

fn parse_enum<E: sea_orm::ActiveEnum<Value = String>>(
    raw: &str,
    column: &'static str,
) -> Result<E, Reject> {
    E::try_from_value(&raw.to_owned()).map_err(|_| {
        let allowed: Vec<String> = E::values();
        reject(
            column,
            format!("`{raw}` is not one of {}", allowed.join(", ")),
        )
    })
}

#[derive(Deserialize)]
struct CategoryRow {
    id: i64,
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct BrandRow {
    id: i64,
    name: String,
    category_code: String,
    status: String,
}

#[derive(Deserialize)]
struct MemberRow {
    id: i64,
    points: i32,
    paid_member: bool,
    black_card: bool,
    birth_year: i32,
    gender: String,
    city_tier: String,
    annual_spend_cents: i64,
    #[serde(default)]
    birth_date: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct MemberCodeRow {
    member_id: i64,
    #[serde(alias = "interest", alias = "service")]
    code: String,
}

#[derive(Deserialize)]
struct RenewalRow {
    member_id: i64,
    due_on: NaiveDate,
    renewed: bool,
}

#[derive(Deserialize)]
struct StoreRow {
    brand_id: i64,
    member_id: i64,
    joined_on: NaiveDate,
}

#[derive(Deserialize)]
struct SalesRow {
    brand_id: i64,
    month: NaiveDate,
    gmv_cents: i64,
    refund_cents: i64,
    orders: i64,
}

#[derive(Deserialize)]
struct PriceRow {
    brand_id: i64,
    sku: String,
    day: NaiveDate,
    price_cents: i64,
    units: i64,
}

#[derive(Deserialize)]
struct MentionRow {
    brand_id: i64,
    period_start: NaiveDate,
    voluntary: i64,
    paid: i64,
}

/// Columns a file may leave out, by file.
const OPTIONAL_COLUMNS: &[(&str, &str)] = &[("members.csv", "birth_date")];

/// One CSV file being read: its header checked, its rows deserialized one
/// at a time, progress shown by bytes read once asked for
/// ([`CsvFile::shown`]).
struct CsvFile {
    file: PathBuf,
    reader: csv::Reader<std::fs::File>,
    headers: csv::StringRecord,
    record: csv::StringRecord,
    size: u64,
    progress: Option<Progress>,
    last_byte: u64,
}

impl CsvFile {
    /// Opens `name` in `dir` and checks its header holds `columns` (and
    /// only those, or the file's optional ones); `None` for a missing
    /// optional file, which reads as empty.
    fn open(
        dir: &Path,
        name: &'static str,
        columns: &[&'static str],
        required: bool,
    ) -> Result<Option<Self>, ImportError> {
        let file = dir.join(name);
        if !file.exists() {
            return if required {
                Err(ImportError::MissingFile(file))
            } else {
                Ok(None)
            };
        }
        let read_error = |message: String| ImportError::Read {
            file: file.clone(),
            message,
        };
        let size = std::fs::metadata(&file)
            .map_err(|e| read_error(e.to_string()))?
            .len();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(&file)
            .map_err(|e| read_error(e.to_string()))?;
        let headers = reader
            .headers()
            .map_err(|e| read_error(e.to_string()))?
            .clone();
        for column in columns {
            if !headers.iter().any(|h| h == *column) {
                return Err(ImportError::Row {
                    file,
                    line: 1,
                    column: (*column).to_owned(),
                    message: "missing column in the header row".to_owned(),
                });
            }
        }
        let optional = OPTIONAL_COLUMNS
            .iter()
            .filter(|(of, _)| *of == name)
            .map(|(_, column)| *column);
        let known: Vec<&str> = columns.iter().copied().chain(optional).collect();
        if let Some(extra) = headers.iter().find(|h| !known.contains(h)) {
            return Err(ImportError::Row {
                file,
                line: 1,
                column: extra.to_owned(),
                message: format!("unknown column; expected {}", known.join(",")),
            });
        }
        Ok(Some(Self {
            file,
            reader,
            headers,
            record: csv::StringRecord::new(),
            size,
            progress: None,
            last_byte: 0,
        }))
    }

    /// The file with its reading shown as progress (a bar or log lines)
    /// under `name`.
    fn shown(self, name: &'static str) -> Self {
        Self {
            progress: Some(Progress::new(name, self.size)),
            ..self
        }
    }

    /// The next row and its 1-based line; `None` at the end of the file.
    fn next<R: DeserializeOwned>(&mut self) -> Result<Option<(u64, R)>, ImportError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(error) => {
                return Err(ImportError::Read {
                    file: self.file.clone(),
                    message: error.to_string(),
                });
            }
        }
        let line = self.record.position().map_or(0, csv::Position::line);
        let row: R = self
            .record
            .deserialize(Some(&self.headers))
            .map_err(|error| {
                let (column, message) = match error.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => (
                        err.field()
                            .and_then(|index| self.headers.get(index as usize))
                            .unwrap_or("?"),
                        match err.kind() {
                            csv::DeserializeErrorKind::Message(m) => m.clone(),
                            kind => kind.to_string(),
                        },
                    ),
                    _ => ("?", error.to_string()),
                };
                ImportError::Row {
                    file: self.file.clone(),
                    line,
                    column: column.to_owned(),
                    message,
                }
            })?;
        let byte = self.reader.position().byte();
        if let Some(progress) = &mut self.progress {
            progress.advance(byte - self.last_byte);
        }
        self.last_byte = byte;
        Ok(Some((line, row)))
    }

    /// Shows the file as read to its end.
    fn finish(self) {
        if let Some(progress) = self.progress {
            progress.finish();
        }
    }

    /// The import error for a value rejected at `line`.
    fn rejected(&self, line: u64, reject: Reject) -> ImportError {
        ImportError::Row {
            file: self.file.clone(),
            line,
            column: reject.column.to_owned(),
            message: reject.message,
        }
    }
}

/// Reads one CSV file row by row, validates each row into a model and
/// writes it through `batch`. A missing optional file reads as empty.
async fn load<R, M, A>(
    dir: &Path,
    name: &'static str,
    columns: &[&'static str],
    required: bool,
    batch: &mut Batch<M, A>,
    mut validate: impl FnMut(R) -> Result<M, Reject>,
) -> Result<(), ImportError>
where
    R: DeserializeOwned,
    M: Row<A>,
    A: ActiveModelTrait + Send,
{
    let Some(file) = CsvFile::open(dir, name, columns, required)? else {
        return Ok(());
    };
    let mut file = file.shown(name);
    while let Some((line, row)) = file.next()? {
        batch.push(validate(row).map_err(|r| file.rejected(line, r))?);
        if batch.is_full() {
            batch.flush().await?;
        }
    }
    file.finish();
    batch.flush().await?;
    Ok(())
}

/// The columns `members.csv` must have.
const MEMBER_COLUMNS: &[&str] = &[
    "id",
    "points",
    "paid_member",
    "black_card",
    "birth_year",
    "gender",
    "city_tier",
    "annual_spend_cents",
];

/// A member's interests and services, read before the members file: they
/// are packed into the member row.
#[derive(Debug, Default)]
struct MemberCodes {
    interests: i32,
    services: i32,
}

/// A multi-valued code file: its name, its code column, the codes, and
/// the member's packed column they go into.
struct CodeFile {
    name: &'static str,
    column: &'static str,
    codes: Vec<&'static str>,
    packed: fn(&mut MemberCodes) -> &mut i32,
}

impl CodeFile {
    /// Opens the file, if present, checking its header.
    fn open(&self, dir: &Path) -> Result<Option<CsvFile>, ImportError> {
        CsvFile::open(dir, self.name, &["member_id", self.column], false)
    }
}

/// The code files, in the order they are read.
fn code_files() -> [CodeFile; 2] {
    [
        CodeFile {
            name: "member_interests.csv",
            column: "interest",
            codes: platform::Interest::codes(),
            packed: |codes| &mut codes.interests,
        },
        CodeFile {
            name: "member_services.csv",
            column: "service",
            codes: platform::SERVICES.to_vec(),
            packed: |codes| &mut codes.services,
        },
    ]
}

/// Reads the optional interest and service files into each member's
/// packed codes, checking every code and refusing a repeated one (members
/// are checked once `members.csv` is read: [`unknown_member`]).
fn read_member_codes(dir: &Path) -> Result<HashMap<i64, MemberCodes>, ImportError> {
    let mut members = HashMap::new();
    for code_file in code_files() {
        let Some(file) = code_file.open(dir)? else {
            continue;
        };
        let mut file = file.shown(code_file.name);
        while let Some((line, row)) = file.next::<MemberCodeRow>()? {
            let bit = platform::code_bit(&code_file.codes, &row.code).ok_or_else(|| {
                file.rejected(
                    line,
                    reject(
                        code_file.column,
                        format!(
                            "unknown {}; use one of {}",
                            code_file.column,
                            code_file.codes.join(", ")
                        ),
                    ),
                )
            })?;
            let packed = (code_file.packed)(members.entry(row.member_id).or_default());
            if *packed & bit != 0 {
                return Err(file.rejected(line, reject(code_file.column, DUPLICATE_ROW)));
            }
            *packed |= bit;
        }
        file.finish();
    }
    Ok(members)
}

/// The first row of the code files (in file order) naming one of
/// `unknown`, the members `members.csv` does not hold, as the import's
/// error. The files are read again only on this path, so the codes held
/// for the whole import stay small.
fn unknown_member(dir: &Path, unknown: &HashSet<i64>) -> ImportError {
    for code_file in code_files() {
        let mut file = match code_file.open(dir) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(error) => return error,
        };
        loop {
            match file.next::<MemberCodeRow>() {
                Ok(Some((line, row))) if unknown.contains(&row.member_id) => {
                    return file.rejected(line, reject("member_id", "unknown member id"));
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => return error,
            }
        }
    }
    // Every unknown member was read from these files a moment ago: they
    // changed while the import ran.
    ImportError::Read {
        file: dir.to_owned(),
        message: "member_interests.csv or member_services.csv changed during the import".to_owned(),
    }
}

fn member_rule_column(error: &MemberRuleError) -> &'static str {
    match error {
        MemberRuleError::NegativePoints(_) => "points",
        MemberRuleError::PaidBelowThreshold(_) => "paid_member",
        MemberRuleError::BlackCardBelowThreshold(_) => "black_card",
        MemberRuleError::NegativeSpend(_) => "annual_spend_cents",
        MemberRuleError::ImplausibleBirthYear(_) => "birth_year",
    }
}

/// Imports every file in `dir`.
pub async fn run(
    db: &DatabaseConnection,
    blobs: &BlobStore,
    dir: &Path,
    replace: bool,
) -> Result<ImportReport, ImportError> {
    let start = Instant::now();
    let txn = LoadTransaction::begin(db).await?;
    if !platform_data::is_empty(&txn).await? {
        if !replace {
            return Err(ImportError::NotEmpty);
        }
        platform_data::clear(&txn).await?;
    }
    let (rows, txn) = platform_data::load(txn, blobs, async |writer: &mut PlatformWriter| {
        let created_at = Utc::now();

        let mut categories: HashMap<String, i64> = HashMap::new();
        let mut category_ids = HashSet::new();
        load(
            dir,
            "categories.csv",
            &["id", "code", "name"],
            true,
            &mut writer.categories,
            |row: CategoryRow| {
                unique(&mut category_ids, row.id, "id")?;
                if row.code.is_empty()
                    || !row.code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                {
                    return Err(reject(
                        "code",
                        "use upper-case letters and underscores, e.g. BEAUTY",
                    ));
                }
                if categories.insert(row.code.clone(), row.id).is_some() {
                    return Err(reject("code", "duplicate category code"));
                }
                Ok(category::Model {
                    id: row.id,
                    code: row.code,
                    name: row.name,
                })
            },
        )
        .await?;

        let mut brand_ids = HashSet::new();
        let mut brand_names = HashSet::new();
        load(
            dir,
            "brands.csv",
            &["id", "name", "category_code", "status"],
            true,
            &mut writer.brands,
            |row: BrandRow| {
                if row.id < 1 {
                    // 0 names the platform population in the audience cube.
                    return Err(reject("id", "brand ids start at 1"));
                }
                unique(&mut brand_ids, row.id, "id")?;
                if row.name.is_empty() {
                    return Err(reject("name", "must not be empty"));
                }
                unique(&mut brand_names, row.name.clone(), "name")?;
                let category_id = *categories
                    .get(&row.category_code)
                    .ok_or_else(|| reject("category_code", "unknown category code"))?;
                Ok(brand::Model {
                    id: row.id,
                    name: row.name,
                    category_id,
                    status: parse_enum::<BrandStatus>(&row.status, "status")?,
                    created_at,
                })
            },
        )
        .await?;

        // The members file's header is checked before the code files are
        // read whole.
        CsvFile::open(dir, "members.csv", MEMBER_COLUMNS, true)?;
        let mut member_codes = read_member_codes(dir)?;
        let mut member_ids = HashSet::new();
        let mut paid_ids = HashSet::new();
        load(
            dir,
            "members.csv",
            MEMBER_COLUMNS,
            true,
            &mut writer.members,
            |row: MemberRow| {
                unique(&mut member_ids, row.id, "id")?;
                platform::check_member(
                    row.points,
                    row.paid_member,
                    row.black_card,
                    row.birth_year,
                    row.annual_spend_cents,
                )
                .map_err(|e| reject(member_rule_column(&e), e.to_string()))?;
                if row.birth_date.is_some_and(|d| d.year() != row.birth_year) {
                    return Err(reject("birth_date", "must fall in birth_year"));
                }
                if row.paid_member {
                    paid_ids.insert(row.id);
                }
                let codes = member_codes.remove(&row.id);
                Ok(member::Model {
                    id: row.id,
                    points: row.points,
                    paid_member: row.paid_member,
                    black_card: row.black_card,
                    birth_year: row.birth_year,
                    gender: parse_enum(&row.gender, "gender")?,
                    city_tier: parse_enum(&row.city_tier, "city_tier")?,
                    annual_spend_cents: row.annual_spend_cents,
                    interests: codes.as_ref().map_or(0, |c| c.interests),
                    services: codes.as_ref().map_or(0, |c| c.services),
                    birth_date: row.birth_date,
                })
            },
        )
        .await?;
        // Codes left over name members the members file does not hold.
        if !member_codes.is_empty() {
            let unknown = member_codes.into_keys().collect();
            return Err(unknown_member(dir, &unknown));
        }

        let mut seen = HashSet::new();
        load(
            dir,
            "paid_renewals.csv",
            &["member_id", "due_on", "renewed"],
            false,
            &mut writer.renewals,
            |row: RenewalRow| {
                known(&member_ids, &row.member_id, "member_id", "member id")?;
                if !paid_ids.contains(&row.member_id) {
                    return Err(reject(
                        "member_id",
                        "only a paid member has a paid-membership renewal",
                    ));
                }
                unique(&mut seen, row.member_id, "member_id")?;
                Ok(paid_renewal::Model {
                    member_id: row.member_id,
                    due_on: row.due_on,
                    renewed: row.renewed,
                })
            },
        )
        .await?;

        let mut seen = HashSet::new();
        load(
            dir,
            "store_memberships.csv",
            &["brand_id", "member_id", "joined_on"],
            false,
            &mut writer.store_memberships,
            |row: StoreRow| {
                known(&brand_ids, &row.brand_id, "brand_id", "brand id")?;
                known(&member_ids, &row.member_id, "member_id", "member id")?;
                unique(&mut seen, (row.brand_id, row.member_id), "member_id")?;
                Ok(store_membership::Model {
                    brand_id: row.brand_id,
                    member_id: row.member_id,
                    joined_on: row.joined_on,
                })
            },
        )
        .await?;

        let mut seen = HashSet::new();
        load(
            dir,
            "category_sales.csv",
            &["brand_id", "month", "gmv_cents", "refund_cents", "orders"],
            false,
            &mut writer.sales,
            |row: SalesRow| {
                known(&brand_ids, &row.brand_id, "brand_id", "brand id")?;
                if row.month.day() != 1 {
                    return Err(reject(
                        "month",
                        "use the first day of the month, e.g. 2026-10-01",
                    ));
                }
                unique(&mut seen, (row.brand_id, row.month), "month")?;
                let gmv_cents = non_negative(row.gmv_cents, "gmv_cents")?;
                let refund_cents = non_negative(row.refund_cents, "refund_cents")?;
                if refund_cents > gmv_cents {
                    return Err(reject("refund_cents", "refunds exceed GMV"));
                }
                Ok(category_sales::Model {
                    brand_id: row.brand_id,
                    month: row.month,
                    gmv_cents,
                    refund_cents,
                    orders: non_negative(row.orders, "orders")?,
                })
            },
        )
        .await?;

        let mut seen = HashSet::new();
        load(
            dir,
            "sku_prices.csv",
            &["brand_id", "sku", "day", "price_cents", "units"],
            false,
            &mut writer.prices,
            |row: PriceRow| {
                known(&brand_ids, &row.brand_id, "brand_id", "brand id")?;
                if row.sku.is_empty() {
                    return Err(reject("sku", "must not be empty"));
                }
                unique(&mut seen, (row.brand_id, row.sku.clone(), row.day), "day")?;
                if row.price_cents <= 0 {
                    return Err(reject("price_cents", "must be more than 0"));
                }
                Ok(sku_price::Model {
                    brand_id: row.brand_id,
                    sku: row.sku,
                    day: row.day,
                    price_cents: row.price_cents,
                    units: non_negative(row.units, "units")?,
                })
            },
        )
        .await?;

        let mut seen = HashSet::new();
        load(
            dir,
            "social_mentions.csv",
            &["brand_id", "period_start", "voluntary", "paid"],
            false,
            &mut writer.mentions,
            |row: MentionRow| {
                known(&brand_ids, &row.brand_id, "brand_id", "brand id")?;
                unique(&mut seen, (row.brand_id, row.period_start), "period_start")?;
                Ok(social_mention::Model {
                    brand_id: row.brand_id,
                    period_start: row.period_start,
                    voluntary: non_negative(row.voluntary, "voluntary")?,
                    paid: non_negative(row.paid, "paid")?,
                })
            },
        )
        .await?;
        Ok::<_, ImportError>(())
    })
    .await?;
    crate::audit::record(
        &txn,
        "cli",
        "data.imported",
        "platform",
        serde_json::json!({ "dir": dir.display().to_string(), "rows": rows }),
    )
    .await?;
    txn.commit().await?;
    let elapsed = start.elapsed();
    let cube =
        platform_data::settle::<ImportError>(db, blobs, crate::platform::business_today()).await?;
    Ok(ImportReport {
        rows,
        elapsed,
        cube,
    })
}
