//! Parquet output through the `parquet` crate's low-level column writers (no Arrow): the
//! long-format series (`run`, `name`, `metric`: dictionary-encoded UTF-8 strings; `step`:
//! INT64; `value`: DOUBLE) and any [`Table`] (numeric columns as DOUBLE, others as UTF-8,
//! empty cells as nulls). pyarrow, polars and pandas read both with these types.

use std::io::Write;
use std::sync::Arc;

use ox_render::{Cell, Table};
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// A Parquet write that failed (the sink's I/O error or an encoding error).
#[derive(Debug)]
pub struct ParquetError(pub parquet::errors::ParquetError);

impl std::fmt::Display for ParquetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write Parquet: {}", self.0)
    }
}

impl std::error::Error for ParquetError {}

impl From<parquet::errors::ParquetError> for ParquetError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        ParquetError(e)
    }
}

/// Rows buffered before a row group is written (about 40 MB of buffers).
const ROW_GROUP_ROWS: usize = 1 << 20;

fn string_field(name: &str, repetition: Repetition) -> Result<Arc<Type>, ParquetError> {
    Ok(Arc::new(
        Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
            .with_repetition(repetition)
            .with_logical_type(Some(LogicalType::String))
            .build()?,
    ))
}

fn primitive_field(
    name: &str,
    ty: PhysicalType,
    repetition: Repetition,
) -> Result<Arc<Type>, ParquetError> {
    Ok(Arc::new(
        Type::primitive_type_builder(name, ty)
            .with_repetition(repetition)
            .build()?,
    ))
}

fn properties() -> Arc<WriterProperties> {
    Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(true)
            .set_max_row_group_size(ROW_GROUP_ROWS)
            .build(),
    )
}

/// Streams metric series into a Parquet file in long format, one row group per ~1 M
/// points.
pub struct SeriesParquetWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    run: Vec<ByteArray>,
    name: Vec<ByteArray>,
    metric: Vec<ByteArray>,
    step: Vec<i64>,
    value: Vec<f64>,
    rows: u64,
}

impl<W: Write + Send> SeriesParquetWriter<W> {
    /// Starts a file on `sink` with the schema `run, name, step, metric, value`.
    pub fn new(sink: W) -> Result<Self, ParquetError> {
        let schema = Type::group_type_builder("series")
            .with_fields(vec![
                string_field("run", Repetition::REQUIRED)?,
                string_field("name", Repetition::REQUIRED)?,
                primitive_field("step", PhysicalType::INT64, Repetition::REQUIRED)?,
                string_field("metric", Repetition::REQUIRED)?,
                primitive_field("value", PhysicalType::DOUBLE, Repetition::REQUIRED)?,
            ])
            .build()?;
        Ok(SeriesParquetWriter {
            writer: SerializedFileWriter::new(sink, Arc::new(schema), properties())?,
            run: Vec::new(),
            name: Vec::new(),
            metric: Vec::new(),
            step: Vec::new(),
            value: Vec::new(),
            rows: 0,
        })
    }

    /// Adds one run's series of one metric (NaN and infinities are kept as such).
    pub fn push(
        &mut self,
        run_id: &str,
        name: &str,
        metric: &str,
        points: &[(i64, f64)],
    ) -> Result<(), ParquetError> {
        // One shared buffer per string: the clones below only count references.
        let (r, n, m) = (
            ByteArray::from(run_id),
            ByteArray::from(name),
            ByteArray::from(metric),
        );
        for &(step, value) in points {
            self.run.push(r.clone());
            self.name.push(n.clone());
            self.metric.push(m.clone());
            self.step.push(step);
            self.value.push(value);
            if self.step.len() >= ROW_GROUP_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ParquetError> {
        if self.step.is_empty() {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        let mut index = 0;
        while let Some(mut col) = group.next_column()? {
            match index {
                0 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&self.run, None, None)?,
                1 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&self.name, None, None)?,
                2 => col
                    .typed::<Int64Type>()
                    .write_batch(&self.step, None, None)?,
                3 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&self.metric, None, None)?,
                _ => col
                    .typed::<DoubleType>()
                    .write_batch(&self.value, None, None)?,
            };
            col.close()?;
            index += 1;
        }
        group.close()?;
        self.rows += self.step.len() as u64;
        self.run.clear();
        self.name.clear();
        self.metric.clear();
        self.step.clear();
        self.value.clear();
        Ok(())
    }

    /// Writes the last row group and the footer; returns the number of rows.
    pub fn finish(mut self) -> Result<u64, ParquetError> {
        self.flush()?;
        self.writer.close()?;
        Ok(self.rows)
    }
}

/// Writes `table` as one Parquet row group: a column whose non-empty cells are all numbers
/// is an optional DOUBLE, any other an optional UTF-8 string; empty cells are nulls.
pub fn write_table<W: Write + Send>(table: &Table, sink: W) -> Result<(), ParquetError> {
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            table
                .rows
                .iter()
                .filter_map(|r| r.get(i))
                .all(|c| !matches!(c, Cell::Text(_)))
        })
        .collect();
    let fields = table
        .columns
        .iter()
        .zip(&numeric)
        .map(|(name, &num)| {
            if num {
                primitive_field(name, PhysicalType::DOUBLE, Repetition::OPTIONAL)
            } else {
                string_field(name, Repetition::OPTIONAL)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Type::group_type_builder("rows")
        .with_fields(fields)
        .build()?;
    let mut writer = SerializedFileWriter::new(sink, Arc::new(schema), properties())?;
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut col) = group.next_column()? {
        let cells = table
            .rows
            .iter()
            .map(|r| r.get(index).unwrap_or(&Cell::Empty));
        let def: Vec<i16> = cells
            .clone()
            .map(|c| i16::from(!matches!(c, Cell::Empty)))
            .collect();
        if numeric.get(index).copied().unwrap_or(false) {
            let values: Vec<f64> = cells
                .filter_map(|c| match c {
                    Cell::Num(v) => Some(*v),
                    _ => None,
                })
                .collect();
            col.typed::<DoubleType>()
                .write_batch(&values, Some(&def), None)?;
        } else {
            let values: Vec<ByteArray> = cells
                .filter_map(|c| match c {
                    Cell::Empty => None,
                    other => Some(ByteArray::from(other.exact().as_str())),
                })
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&values, Some(&def), None)?;
        }
        col.close()?;
        index += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    fn file_of(bytes: &[u8]) -> std::fs::File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn series_round_trip() {
        let mut buf = Vec::new();
        let mut w = SeriesParquetWriter::new(&mut buf).unwrap();
        w.push("r1", "a", "loss", &[(0, 2.0), (1, 1.5)]).unwrap();
        w.push("r2", "b", "acc", &[(5, f64::NAN)]).unwrap();
        assert_eq!(w.finish().unwrap(), 3);
        let reader = SerializedFileReader::new(file_of(&buf)).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let first: Vec<(String, Field)> = rows[1]
            .get_column_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            first,
            vec![
                ("run".into(), Field::Str("r1".into())),
                ("name".into(), Field::Str("a".into())),
                ("step".into(), Field::Long(1)),
                ("metric".into(), Field::Str("loss".into())),
                ("value".into(), Field::Double(1.5)),
            ]
        );
    }

    #[test]
    fn tables_keep_types_and_nulls() {
        let mut t = Table::new(["name", "lr", "loss"]);
        t.push(vec!["a".into(), Cell::Num(0.1), Cell::Empty]);
        t.push(vec!["b".into(), Cell::Empty, Cell::Num(0.5)]);
        let mut buf = Vec::new();
        write_table(&t, &mut buf).unwrap();
        let reader = SerializedFileReader::new(file_of(&buf)).unwrap();
        let rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert_eq!(
            rows,
            [
                "{name: \"a\", lr: 0.1, loss: null}",
                "{name: \"b\", lr: null, loss: 0.5}"
            ]
        );
    }
}
