//! Hive partitioning: folders named `key=value` between a table's location and its files become
//! columns of the table (after the files' own columns). Their types are inferred from all values:
//! BIGINT if every value is an integer, DATE if every value is `YYYY-MM-DD`, VARCHAR otherwise.
//! A predicate that reads only partition columns is evaluated once per file, before any file is
//! opened, so whole folders are skipped.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::io::listing::ListedFile;
use crate::io::predicate::{CompiledPredicate, column_names, is_scan_evaluable, unqualified};
use crate::logical::expr::Expr;

/// The partition columns of a table and each file's values.
#[derive(Debug, Clone)]
pub struct HivePartitions {
    /// The partition columns (nullable), in folder order.
    pub fields: Vec<Field>,
    /// Per file (same order as the listing), one value per partition column.
    pub values: Vec<Vec<ScalarValue>>,
}

impl HivePartitions {
    /// Infers partition columns from a listing; `None` when no file sits in a `key=value` folder.
    /// Files whose folders name different keys are an error naming both files.
    pub fn infer(files: &[ListedFile]) -> Result<Option<HivePartitions>> {
        let Some(first) = files.first() else {
            return Ok(None);
        };
        if files.iter().all(|f| f.partitions.is_empty()) {
            return Ok(None);
        }
        let keys: Vec<&String> = first.partitions.iter().map(|(k, _)| k).collect();
        for f in files {
            let k: Vec<&String> = f.partitions.iter().map(|(k, _)| k).collect();
            if k != keys {
                return Err(Error::plan(format!(
                    "inconsistent Hive partition folders: {} is under ({}) but {} is under ({})",
                    first.display,
                    join(&keys),
                    f.display,
                    join(&k)
                )));
            }
        }
        let mut fields = vec![];
        let mut values: Vec<Vec<ScalarValue>> = vec![vec![]; files.len()];
        for (i, key) in keys.iter().enumerate() {
            let raw: Vec<Option<&str>> =
                files.iter().map(|f| f.partitions[i].1.as_deref()).collect();
            let t = infer_type(raw.iter().flatten().copied());
            for (fi, v) in raw.iter().enumerate() {
                values[fi].push(typed_value(*v, &t)?);
            }
            fields.push(Field::new(key.as_str(), t, true));
        }
        Ok(Some(HivePartitions { fields, values }))
    }

    /// The partition column names.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name().as_str()).collect()
    }

    /// Which files may hold rows passing `filters` (true = keep). Only conjuncts that read
    /// partition columns alone are used; the rest are left to the scan and the filter above it.
    pub fn prune(&self, filters: &[Expr]) -> Result<Vec<bool>> {
        let n = self.values.len();
        let mut keep = vec![true; n];
        let names = self.names();
        let usable: Vec<Expr> = filters
            .iter()
            .filter(|f| is_scan_evaluable(f))
            .map(unqualified)
            .filter(|f| {
                let cols = column_names(f);
                !cols.is_empty() && cols.iter().all(|c| names.contains(&c.as_str()))
            })
            .collect();
        if usable.is_empty() || n == 0 {
            return Ok(keep);
        }
        let batch = self.batch()?;
        for f in &usable {
            let mask = CompiledPredicate::try_new(f, batch.schema().as_ref())?.evaluate(&batch)?;
            for (i, k) in keep.iter_mut().enumerate() {
                *k &= mask.value(i);
            }
        }
        Ok(keep)
    }

    /// One row per file with its partition values.
    fn batch(&self) -> Result<RecordBatch> {
        let schema: SchemaRef = Arc::new(Schema::new(self.fields.clone()));
        let columns = (0..self.fields.len())
            .map(|c| {
                ScalarValue::iter_to_array(self.values.iter().map(|v| v[c].clone()))
                    .map_err(Error::from)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(RecordBatch::try_new_with_options(
            schema,
            columns,
            &RecordBatchOptions::new().with_row_count(Some(self.values.len())),
        )?)
    }
}

fn join(keys: &[&String]) -> String {
    keys.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// BIGINT, DATE or VARCHAR, whichever fits every value.
fn infer_type<'a>(values: impl Iterator<Item = &'a str> + Clone) -> DataType {
    let mut any = false;
    let all_ints = values.clone().all(|v| {
        any = true;
        v.parse::<i64>().is_ok()
    });
    if any && all_ints {
        return DataType::Int64;
    }
    let all_dates = values
        .clone()
        .all(|v| v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok());
    if any && all_dates {
        return DataType::Date32;
    }
    DataType::Utf8
}

fn typed_value(v: Option<&str>, t: &DataType) -> Result<ScalarValue> {
    let Some(v) = v else {
        return Ok(ScalarValue::try_from(t)?);
    };
    Ok(match t {
        DataType::Int64 => ScalarValue::Int64(v.parse().ok()),
        DataType::Date32 => ScalarValue::Utf8(Some(v.to_string())).cast_to(t)?,
        _ => ScalarValue::Utf8(Some(v.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::HivePartitions;
    use crate::io::listing::ListedFile;
    use crate::logical::expr::{BinaryOp, Expr};
    use crate::logical::schema::Column;
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;
    use object_store::path::Path;

    fn file(name: &str, parts: &[(&str, Option<&str>)]) -> ListedFile {
        ListedFile {
            path: Path::parse(name).unwrap(),
            size: 1,
            display: name.to_string(),
            partitions: parts
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(|s| s.to_string())))
                .collect(),
        }
    }

    #[test]
    fn infers_types_and_prunes() {
        let files = vec![
            file("a", &[("year", Some("2023")), ("day", Some("2023-05-01"))]),
            file("b", &[("year", Some("2024")), ("day", Some("2024-01-02"))]),
            file("c", &[("year", None), ("day", Some("2024-03-04"))]),
        ];
        let h = HivePartitions::infer(&files).unwrap().unwrap();
        assert_eq!(h.fields[0].data_type(), &DataType::Int64);
        assert_eq!(h.fields[1].data_type(), &DataType::Date32);
        let year = Expr::Column(Column::new(Some("t"), "year"));
        let f = Expr::binary(
            year,
            BinaryOp::GtEq,
            Expr::Literal(ScalarValue::Int64(Some(2024))),
        );
        assert_eq!(h.prune(&[f]).unwrap(), vec![false, true, false]);
    }

    #[test]
    fn mismatched_folders_are_an_error() {
        let files = vec![file("a", &[("x", Some("1"))]), file("b", &[])];
        let e = HivePartitions::infer(&files).unwrap_err();
        assert!(e.to_string().contains("inconsistent"), "{e}");
    }
}
