//! `avg(x)`: DOUBLE for integers and floats (integers are summed exactly in
//! 128 bits), DECIMAL(38, s+4) for DECIMAL(p, s). State: (sum, count).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};

use crate::error::{Error, Result};
use crate::functions::aggregate::{bad_arg, expect_args, for_each_valid};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `avg` (also `mean`).
#[derive(Debug)]
pub struct Avg;

impl AggregateFunction for Avg {
    fn name(&self) -> &str {
        "avg"
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        expect_args("avg", arg_types, 1)?;
        Ok(match &arg_types[0] {
            t if t.is_integer() || *t == DataType::Null => {
                (vec![DataType::Int64], DataType::Float64)
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                (vec![DataType::Float64], DataType::Float64)
            }
            DataType::Decimal128(p, s) => {
                let rs = (*s + 4).min(38);
                (
                    vec![DataType::Decimal128(*p, *s)],
                    DataType::Decimal128(38, rs),
                )
            }
            other => return Err(bad_arg("avg", other)),
        })
    }
    fn state_types(&self, arg_types: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        Ok(match &arg_types[0] {
            DataType::Int64 => vec![DataType::Decimal128(38, 0), DataType::Int64],
            DataType::Decimal128(_, s) => vec![DataType::Decimal128(38, *s), DataType::Int64],
            _ => vec![DataType::Float64, DataType::Int64],
        })
    }
    fn create_accumulator(
        &self,
        arg_types: &[DataType],
        rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(match (&arg_types[0], rt) {
            (DataType::Int64, _) => Box::new(IntAvg::default()),
            (DataType::Decimal128(_, s), DataType::Decimal128(_, rs)) => Box::new(DecimalAvg {
                sums: vec![],
                counts: vec![],
                scale: *s,
                result_scale: *rs,
            }),
            _ => Box::new(FloatAvg::default()),
        })
    }
}

/// Average of integers: exact 128-bit sums.
#[derive(Debug, Default)]
struct IntAvg {
    sums: Vec<i128>,
    counts: Vec<i64>,
}

impl GroupsAccumulator for IntAvg {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0);
        self.counts.resize(total, 0);
        if values[0].data_type() == &DataType::Null {
            return Ok(());
        }
        let v = values[0].as_primitive::<Int64Type>().values();
        let (sums, counts) = (&mut self.sums, &mut self.counts);
        for_each_valid(values[0].as_ref(), group_indices, |g, row| {
            sums[g] += v[row] as i128;
            counts[g] += 1;
        });
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0);
        self.counts.resize(total, 0);
        let s = states[0].as_primitive::<Decimal128Type>().values();
        let c = states[1].as_primitive::<Int64Type>().values();
        for (row, g) in group_indices.iter().enumerate() {
            self.sums[*g as usize] += s[row];
            self.counts[*g as usize] += c[row];
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        Ok(vec![
            Arc::new(Decimal128Array::from(sums).with_precision_and_scale(38, 0)?),
            Arc::new(Int64Array::from(counts)),
        ])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        let out: Float64Array = sums
            .iter()
            .zip(counts.iter())
            .map(|(s, c)| {
                if *c == 0 {
                    None
                } else {
                    Some(*s as f64 / *c as f64)
                }
            })
            .collect();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.sums.capacity() * 16 + self.counts.capacity() * 8
    }
}

/// Average of floats.
#[derive(Debug, Default)]
struct FloatAvg {
    sums: Vec<f64>,
    counts: Vec<i64>,
}

impl GroupsAccumulator for FloatAvg {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0.0);
        self.counts.resize(total, 0);
        if values[0].data_type() == &DataType::Null {
            return Ok(());
        }
        let v = values[0].as_primitive::<Float64Type>().values();
        let (sums, counts) = (&mut self.sums, &mut self.counts);
        for_each_valid(values[0].as_ref(), group_indices, |g, row| {
            sums[g] += v[row];
            counts[g] += 1;
        });
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0.0);
        self.counts.resize(total, 0);
        let s = states[0].as_primitive::<Float64Type>().values();
        let c = states[1].as_primitive::<Int64Type>().values();
        for (row, g) in group_indices.iter().enumerate() {
            self.sums[*g as usize] += s[row];
            self.counts[*g as usize] += c[row];
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        Ok(vec![
            Arc::new(Float64Array::from(sums)),
            Arc::new(Int64Array::from(counts)),
        ])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        let out: Float64Array = sums
            .iter()
            .zip(counts.iter())
            .map(|(s, c)| if *c == 0 { None } else { Some(*s / *c as f64) })
            .collect();
        Ok(Arc::new(out))
    }
    fn size(&self) -> usize {
        self.sums.capacity() * 8 + self.counts.capacity() * 8
    }
}

/// Average of decimals, rounded half away from zero at the result scale.
#[derive(Debug)]
struct DecimalAvg {
    sums: Vec<i128>,
    counts: Vec<i64>,
    scale: i8,
    result_scale: i8,
}

impl GroupsAccumulator for DecimalAvg {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0);
        self.counts.resize(total, 0);
        let v = values[0].as_primitive::<Decimal128Type>().values();
        let (sums, counts) = (&mut self.sums, &mut self.counts);
        let mut overflow = false;
        for_each_valid(values[0].as_ref(), group_indices, |g, row| {
            match sums[g].checked_add(v[row]) {
                Some(s) => sums[g] = s,
                None => overflow = true,
            }
            counts[g] += 1;
        });
        if overflow {
            return Err(Error::execution("decimal overflow in avg()"));
        }
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0);
        self.counts.resize(total, 0);
        let s = states[0].as_primitive::<Decimal128Type>().values();
        let c = states[1].as_primitive::<Int64Type>().values();
        for (row, g) in group_indices.iter().enumerate() {
            self.sums[*g as usize] += s[row];
            self.counts[*g as usize] += c[row];
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        Ok(vec![
            Arc::new(Decimal128Array::from(sums).with_precision_and_scale(38, self.scale)?),
            Arc::new(Int64Array::from(counts)),
        ])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let sums = std::mem::take(&mut self.sums);
        let counts = std::mem::take(&mut self.counts);
        let mul = 10i128.pow((self.result_scale - self.scale).max(0) as u32);
        let mut out = Vec::with_capacity(sums.len());
        for (s, c) in sums.iter().zip(counts.iter()) {
            if *c == 0 {
                out.push(None);
                continue;
            }
            let num = s
                .checked_mul(mul)
                .ok_or_else(|| Error::execution("decimal overflow in avg()"))?;
            let c = *c as i128;
            let q = num / c;
            let r = num % c;
            // round half away from zero
            let q = if 2 * r.abs() >= c {
                q + num.signum()
            } else {
                q
            };
            out.push(Some(q));
        }
        Ok(Arc::new(
            Decimal128Array::from(out).with_precision_and_scale(38, self.result_scale)?,
        ))
    }
    fn size(&self) -> usize {
        self.sums.capacity() * 16 + self.counts.capacity() * 8
    }
}
