//! The sweep spec: what a TOML file or the command-line flags say, checked before anything
//! starts.
//!
//! ```toml
//! name = "lr-study"                 # the sweep id (default: the study, else the file name)
//! study = "lr-study"
//! command = "python train.py --lr {lr} --layers {model.layers} --seed {seed}"
//! seeds = [1, 2, 3]
//! max_parallel = 4
//! [params]                          # base params of every member
//! epochs = 3
//! [grid]                            # cartesian product; dotted keys nest
//! lr = [1e-4, 5e-5, 1e-5]
//! model.layers = [6, 12]
//! [random]                          # `samples` draws with a seeded RNG
//! samples = 8
//! sampling_seed = 0
//! dropout = { uniform = [0.0, 0.5] }
//! wd = { loguniform = [1e-6, 1e-2] }
//! heads = { int = [4, 16] }
//! opt = { choice = ["adam", "sgd"] }
//! [slurm]
//! partition = "gpu"
//! time = "1:00:00"
//! ```
//!
//! A command given as one string runs through `sh -c` (values are shell-quoted); given as an
//! array it runs as those words. Instead of `command`, `[[steps]]` (each with `name` and
//! `command`) make a pipeline.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::SpecError;
use crate::template::Template;

/// A random-search distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform { low: f64, high: f64 },
    /// Log-uniform on `[low, high)`, `low > 0`.
    LogUniform { low: f64, high: f64 },
    /// A whole number in `[low, high]`.
    Int { low: i64, high: i64 },
    /// One of the values, each equally likely.
    Choice(Vec<Value>),
}

impl Distribution {
    /// Checks the bounds: `low < high` (log-uniform: `0 < low`), a non-empty choice.
    pub fn check(&self, key: &str) -> Result<(), SpecError> {
        let bad = |why: &str| Err(SpecError::invalid(format!("random {key:?}: {why}")));
        match self {
            Distribution::Uniform { low, high } | Distribution::LogUniform { low, high }
                if !(low.is_finite() && high.is_finite() && low < high) =>
            {
                bad("needs two finite bounds, low < high")
            }
            Distribution::LogUniform { low, .. } if *low <= 0.0 => {
                bad("loguniform needs a positive lower bound")
            }
            Distribution::Int { low, high } if low > high => bad("int needs low <= high"),
            Distribution::Choice(v) if v.is_empty() => bad("choice needs at least one value"),
            _ => Ok(()),
        }
    }

    /// Parses the flag form `uniform:0,1`, `loguniform:1e-5,1e-3`, `int:2,8`,
    /// `choice:adam,sgd`.
    pub fn parse_flag(key: &str, text: &str) -> Result<Self, SpecError> {
        let Some((kind, args)) = text.split_once(':') else {
            return Err(SpecError::invalid(format!(
                "random {key:?}: expected DIST:ARGS (uniform:0,1 | loguniform:1e-5,1e-3 | int:2,8 | choice:a,b), got {text:?}"
            )));
        };
        let values: Vec<Value> = args.split(',').map(ox_core::parse_param_value).collect();
        Self::from_parts(key, kind, &values)
    }

    fn from_parts(key: &str, kind: &str, args: &[Value]) -> Result<Self, SpecError> {
        let two_numbers = || match args {
            [a, b] => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(SpecError::invalid(format!(
                    "random {key:?}: {kind} needs two numbers [low, high]"
                ))),
            },
            _ => Err(SpecError::invalid(format!(
                "random {key:?}: {kind} needs two numbers [low, high]"
            ))),
        };
        let dist = match kind {
            "uniform" => {
                let (low, high) = two_numbers()?;
                Distribution::Uniform { low, high }
            }
            "loguniform" => {
                let (low, high) = two_numbers()?;
                Distribution::LogUniform { low, high }
            }
            "int" => match args {
                [a, b] if a.is_i64() && b.is_i64() => Distribution::Int {
                    low: a.as_i64().unwrap_or_default(),
                    high: b.as_i64().unwrap_or_default(),
                },
                _ => {
                    return Err(SpecError::invalid(format!(
                        "random {key:?}: int needs two whole numbers [low, high]"
                    )));
                }
            },
            "choice" => Distribution::Choice(args.to_vec()),
            other => {
                return Err(SpecError::invalid(format!(
                    "random {key:?}: unknown distribution {other:?}; use uniform, loguniform, int or choice"
                )));
            }
        };
        dist.check(key)?;
        Ok(dist)
    }
}

/// One command of a member: the whole member, or one step of its pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step's name (`None` for a sweep with one command and no steps).
    pub name: Option<String>,
    /// The command words as written, with placeholders.
    pub command: Vec<String>,
    /// Whether `command` is one shell string (run with `sh -c`, values quoted).
    pub shell: bool,
}

impl Step {
    /// The command's words as templates.
    pub fn templates(&self) -> Vec<Template> {
        self.command.iter().map(|w| Template::parse(w)).collect()
    }
}

/// Where members run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutorKind {
    /// Child processes of `ox sweep` on this machine.
    #[default]
    Local,
    /// One SLURM job array.
    Slurm,
}

impl ExecutorKind {
    /// Parses `local` or `slurm`.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        match text {
            "local" => Ok(ExecutorKind::Local),
            "slurm" => Ok(ExecutorKind::Slurm),
            other => Err(SpecError::invalid(format!(
                "unknown executor {other:?}; use local or slurm"
            ))),
        }
    }
}

/// `sbatch` options of the SLURM executor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub gres: Option<String>,
    pub cpus: Option<u32>,
    pub mem: Option<String>,
    pub account: Option<String>,
    /// Extra `sbatch` arguments, each one `#SBATCH` line.
    pub sbatch_args: Vec<String>,
    /// Let SLURM requeue a preempted task; it resumes the same run.
    pub requeue: bool,
}

/// A whole sweep as written; [`SweepSpec::check`] validates it, [`crate::expand`] makes its
/// members.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SweepSpec {
    /// The sweep id; see [`SweepSpec::sweep_id`].
    pub name: Option<String>,
    pub study: Option<String>,
    /// Params every member starts from (nested).
    pub base: Map<String, Value>,
    /// Dotted key → values, in spec order.
    pub grid: Vec<(String, Vec<Value>)>,
    /// Dotted key → distribution, in spec order.
    pub random: Vec<(String, Distribution)>,
    /// Number of random draws (each combined with every grid point).
    pub samples: Option<usize>,
    /// Seed of the sampling RNG, so the same spec draws the same members.
    pub sampling_seed: u64,
    /// Values of the `seed` param; every other combination runs once per seed.
    pub seeds: Vec<Value>,
    /// The command, or the pipeline's steps in order.
    pub steps: Vec<Step>,
    pub max_parallel: Option<usize>,
    pub executor: ExecutorKind,
    pub slurm: SlurmOptions,
    /// GPU ids to hand out to local members (`CUDA_VISIBLE_DEVICES`).
    pub gpus: Vec<String>,
    pub gpus_per_member: Option<usize>,
}

/// The placeholders every command may use besides params.
pub const BUILTIN_PLACEHOLDERS: [&str; 3] = ["sweep", "study", "member"];

impl SweepSpec {
    /// Reads a TOML spec; `path` names the file in messages.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, SpecError> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| SpecError::Toml {
            path: path.to_string(),
            message: e.message().to_string(),
        })?;
        let mut spec = SweepSpec::default();
        for (key, value) in doc {
            let v = toml_to_json(&value);
            match key.as_str() {
                "name" => spec.name = Some(string(&key, &v)?),
                "study" => spec.study = Some(string(&key, &v)?),
                "params" => spec.base = object(&key, v)?,
                "grid" => {
                    for (k, values) in flatten_leaves(&object(&key, v)?) {
                        match values {
                            Value::Array(a) => spec.grid.push((k, a)),
                            other => spec.grid.push((k, vec![other])),
                        }
                    }
                }
                "random" => {
                    let mut table = object(&key, v)?;
                    if let Some(n) = table.remove("samples") {
                        spec.samples = Some(count("random.samples", &n)?);
                    }
                    if let Some(s) = table.remove("sampling_seed") {
                        spec.sampling_seed = s.as_u64().ok_or_else(|| {
                            SpecError::invalid("random.sampling_seed must be a whole number >= 0")
                        })?;
                    }
                    spec.random = random_leaves(&table)?;
                }
                "seeds" => match v {
                    Value::Array(a) => spec.seeds = a,
                    _ => return Err(SpecError::invalid("seeds must be a list, e.g. [1, 2, 3]")),
                },
                "command" => spec.steps = vec![step_from(None, &v)?],
                "steps" => {
                    let Value::Array(items) = v else {
                        return Err(SpecError::invalid("steps must be [[steps]] tables"));
                    };
                    for item in items {
                        let mut t = object("steps", item)?;
                        let name = t
                            .remove("name")
                            .map(|n| string("steps.name", &n))
                            .transpose()?
                            .ok_or_else(|| SpecError::invalid("every [[steps]] needs a name"))?;
                        let command = t.remove("command").ok_or_else(|| {
                            SpecError::invalid(format!("step {name:?} needs a command"))
                        })?;
                        if let Some(k) = t.keys().next() {
                            return Err(SpecError::invalid(format!(
                                "step {name:?}: unknown key {k:?} (a step has name and command)"
                            )));
                        }
                        spec.steps.push(step_from(Some(name), &command)?);
                    }
                }
                "max_parallel" => spec.max_parallel = Some(count(&key, &v)?),
                "executor" => spec.executor = ExecutorKind::parse(&string(&key, &v)?)?,
                "gpus" => match v {
                    Value::Array(a) => {
                        spec.gpus = a.iter().map(crate::expand::value_text).collect()
                    }
                    other => {
                        spec.gpus = crate::expand::value_text(&other)
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .collect();
                    }
                },
                "gpus_per_member" => spec.gpus_per_member = Some(count(&key, &v)?),
                "slurm" => spec.slurm = slurm_from(object(&key, v)?)?,
                other => {
                    return Err(SpecError::invalid(format!(
                        "{path}: unknown key {other:?}; a sweep spec has name, study, command or [[steps]], [params], [grid], [random], seeds, max_parallel, executor, gpus, gpus_per_member, [slurm]"
                    )));
                }
            }
        }
        Ok(spec)
    }

    /// Adds `KEY=V1,V2,...` (values typed like `-p`).
    pub fn add_grid_flag(&mut self, flag: &str) -> Result<(), SpecError> {
        let (key, values) = split_flag("--grid", flag, "lr=1e-4,5e-5")?;
        let values: Vec<Value> = if values.trim().is_empty() {
            Vec::new()
        } else {
            values.split(',').map(ox_core::parse_param_value).collect()
        };
        self.grid.retain(|(k, _)| k != key);
        self.grid.push((key.to_string(), values));
        Ok(())
    }

    /// Adds `KEY=DIST:ARGS` (see [`Distribution::parse_flag`]).
    pub fn add_random_flag(&mut self, flag: &str) -> Result<(), SpecError> {
        let (key, dist) = split_flag("--random", flag, "lr=loguniform:1e-5,1e-3")?;
        let dist = Distribution::parse_flag(key, dist)?;
        self.random.retain(|(k, _)| k != key);
        self.random.push((key.to_string(), dist));
        Ok(())
    }

    /// Sets the seeds from `1,2,3`.
    pub fn set_seeds_flag(&mut self, flag: &str) {
        self.seeds = flag
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(ox_core::parse_param_value)
            .collect();
    }

    /// Sets the command from the words after `--`.
    pub fn set_command(&mut self, words: Vec<String>) {
        self.steps = vec![Step {
            name: None,
            command: words,
            shell: false,
        }];
    }

    /// The sweep id: `name`, else the study, else `fallback` (a TOML file's stem).
    pub fn sweep_id(&self, fallback: Option<&str>) -> Option<String> {
        self.name
            .clone()
            .or_else(|| self.study.clone())
            .or_else(|| fallback.map(str::to_string))
    }

    /// Every dotted param key a member has, base included.
    pub fn param_keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = ox_core::flatten_params(&self.base)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        keys.extend(self.grid.iter().map(|(k, _)| k.clone()));
        keys.extend(self.random.iter().map(|(k, _)| k.clone()));
        if !self.seeds.is_empty() {
            keys.insert("seed".into());
        }
        keys
    }

    /// Finds what would make the sweep fail or surprise: no command, an empty grid, a bad
    /// distribution, a key set twice, an unknown placeholder.
    pub fn check(&self) -> Result<(), SpecError> {
        if self.steps.is_empty() {
            return Err(SpecError::invalid(
                "no command: give one after `--`, or `command = \"...\"` / [[steps]] in the spec file",
            ));
        }
        if let Some(id) = &self.sweep_id(None)
            && (id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            return Err(SpecError::invalid(format!(
                "sweep name {id:?} may only hold letters, digits, '-', '_' and '.'"
            )));
        }
        for (key, values) in &self.grid {
            if values.is_empty() {
                return Err(SpecError::invalid(format!(
                    "grid {key:?} has no values; give at least one (--grid {key}=V1,V2)"
                )));
            }
        }
        for (key, dist) in &self.random {
            dist.check(key)?;
        }
        match (self.random.is_empty(), self.samples) {
            (false, None) | (false, Some(0)) => {
                return Err(SpecError::invalid(
                    "random search needs a sample count >= 1 (samples = N in [random], or --samples N)",
                ));
            }
            _ => {}
        }
        if self.max_parallel == Some(0) {
            return Err(SpecError::invalid("max_parallel must be at least 1"));
        }
        if self.gpus_per_member == Some(0) {
            return Err(SpecError::invalid("gpus_per_member must be at least 1"));
        }
        if let Some(k) = self.gpus_per_member
            && !self.gpus.is_empty()
            && k > self.gpus.len()
        {
            return Err(SpecError::invalid(format!(
                "gpus_per_member is {k} but only {} GPUs are given",
                self.gpus.len()
            )));
        }
        // A key may come from one place only (base params may be overridden by grid/random).
        let mut seen = BTreeSet::new();
        let swept = self
            .grid
            .iter()
            .map(|(k, _)| k)
            .chain(self.random.iter().map(|(k, _)| k));
        for key in swept {
            if !seen.insert(key.clone()) {
                return Err(SpecError::invalid(format!(
                    "{key:?} is swept twice (in the grid and the random search)"
                )));
            }
            if key.split('.').any(str::is_empty) {
                return Err(SpecError::invalid(format!(
                    "{key:?} has an empty key segment"
                )));
            }
        }
        if !self.seeds.is_empty() && seen.contains("seed") {
            return Err(SpecError::invalid(
                "\"seed\" is both swept and given as seeds; keep one",
            ));
        }
        let mut known: BTreeSet<String> = self.param_keys();
        known.extend(BUILTIN_PLACEHOLDERS.iter().map(|s| s.to_string()));
        let mut step_names = BTreeSet::new();
        for step in &self.steps {
            if step.command.is_empty() || step.command.iter().all(|w| w.trim().is_empty()) {
                return Err(SpecError::invalid(match &step.name {
                    Some(n) => format!("step {n:?} has an empty command"),
                    None => "the command is empty".to_string(),
                }));
            }
            let label = step
                .name
                .as_ref()
                .map(|n| format!("step {n:?}'s "))
                .unwrap_or_default();
            for t in step.templates() {
                for name in t.names() {
                    if !known.contains(name) {
                        return Err(SpecError::UnknownPlaceholder {
                            closest: closest(name, &known),
                            name: name.to_string(),
                            step: label.clone(),
                            known: known
                                .iter()
                                .map(|k| format!("{{{k}}}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        });
                    }
                }
            }
            if let Some(n) = &step.name {
                if !step_names.insert(n.clone()) {
                    return Err(SpecError::invalid(format!("two steps are named {n:?}")));
                }
                known.insert(format!("steps.{n}.dir"));
                known.insert(format!("steps.{n}.id"));
            }
        }
        Ok(())
    }
}

/// The known name within a third of `name`'s length in edits (at least 2), nearest first.
fn closest(name: &str, known: &BTreeSet<String>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k.clone())
}

fn split_flag<'a>(
    flag_name: &str,
    flag: &'a str,
    example: &str,
) -> Result<(&'a str, &'a str), SpecError> {
    match flag.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => Err(SpecError::invalid(format!(
            "{flag_name} {flag:?}: expected KEY=VALUES, e.g. {flag_name} {example}"
        ))),
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn string(key: &str, v: &Value) -> Result<String, SpecError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| SpecError::invalid(format!("{key} must be a string")))
}

fn object(key: &str, v: Value) -> Result<Map<String, Value>, SpecError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(SpecError::invalid(format!("{key} must be a table"))),
    }
}

fn count(key: &str, v: &Value) -> Result<usize, SpecError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| SpecError::invalid(format!("{key} must be a whole number >= 0")))
}

/// Dotted keys of the non-table leaves (`model = {layers = [..]}` → `model.layers`).
fn flatten_leaves(map: &Map<String, Value>) -> Vec<(String, Value)> {
    ox_core::flatten_params(map)
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
}

const DISTRIBUTIONS: [&str; 4] = ["uniform", "loguniform", "int", "choice"];

/// Dotted keys of the distribution tables (a table whose one key is a distribution name).
fn random_leaves(map: &Map<String, Value>) -> Result<Vec<(String, Distribution)>, SpecError> {
    fn walk(
        prefix: &str,
        map: &Map<String, Value>,
        out: &mut Vec<(String, Distribution)>,
    ) -> Result<(), SpecError> {
        for (k, v) in map {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            let Value::Object(inner) = v else {
                return Err(SpecError::invalid(format!(
                    "random {key:?}: expected a distribution, e.g. {{ loguniform = [1e-5, 1e-3] }}"
                )));
            };
            let dist_keys: Vec<&String> = inner
                .keys()
                .filter(|k| DISTRIBUTIONS.contains(&k.as_str()))
                .collect();
            match (dist_keys.as_slice(), inner.len()) {
                ([kind], 1) => {
                    let args = match &inner[kind.as_str()] {
                        Value::Array(a) => a.clone(),
                        other => vec![other.clone()],
                    };
                    let dist = Distribution::from_parts(&key, kind, &args)?;
                    out.push((key, dist));
                }
                ([], _) => walk(&key, inner, out)?,
                _ => {
                    return Err(SpecError::invalid(format!(
                        "random {key:?}: give exactly one of uniform, loguniform, int, choice"
                    )));
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk("", map, &mut out)?;
    Ok(out)
}

fn step_from(name: Option<String>, v: &Value) -> Result<Step, SpecError> {
    match v {
        Value::String(s) => Ok(Step {
            name,
            command: vec![s.clone()],
            shell: true,
        }),
        Value::Array(words) => Ok(Step {
            name,
            command: words.iter().map(crate::expand::value_text).collect(),
            shell: false,
        }),
        _ => Err(SpecError::invalid(
            "command must be a string (run with sh -c) or a list of words",
        )),
    }
}

fn slurm_from(mut t: Map<String, Value>) -> Result<SlurmOptions, SpecError> {
    let mut o = SlurmOptions::default();
    let mut take = |k: &str| t.remove(k).map(|v| crate::expand::value_text(&v));
    o.partition = take("partition");
    o.time = take("time");
    o.gres = take("gres");
    o.mem = take("mem");
    o.account = take("account");
    if let Some(c) = t.remove("cpus") {
        o.cpus = Some(
            c.as_u64()
                .and_then(|c| u32::try_from(c).ok())
                .ok_or_else(|| SpecError::invalid("slurm.cpus must be a whole number"))?,
        );
    }
    if let Some(r) = t.remove("requeue") {
        o.requeue = r.as_bool().unwrap_or(false);
    }
    if let Some(a) = t.remove("sbatch_args") {
        match a {
            Value::Array(a) => o.sbatch_args = a.iter().map(crate::expand::value_text).collect(),
            _ => {
                return Err(SpecError::invalid(
                    "slurm.sbatch_args must be a list of strings",
                ));
            }
        }
    }
    if let Some(k) = t.keys().next() {
        return Err(SpecError::invalid(format!(
            "[slurm]: unknown key {k:?}; known: partition, time, gres, cpus, mem, account, sbatch_args, requeue"
        )));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
name = "lr-study"
command = "python train.py --lr {lr} --layers {model.layers} --seed {seed}"
seeds = [1, 2, 3]
max_parallel = 2
[params]
epochs = 3
[grid]
lr = [1e-4, 5e-5]
model.layers = [6, 12]
[random]
samples = 4
sampling_seed = 7
dropout = { uniform = [0.0, 0.5] }
opt.name = { choice = ["adam", "sgd"] }
[slurm]
partition = "debug"
time = "0:10:00"
sbatch_args = ["--qos=low"]
"#;

    #[test]
    fn reads_every_section_with_dotted_keys_nesting() {
        let spec = SweepSpec::from_toml(SPEC, "s.toml").unwrap();
        spec.check().unwrap();
        assert_eq!(spec.sweep_id(None).as_deref(), Some("lr-study"));
        assert_eq!(spec.grid[1].0, "model.layers");
        assert_eq!(spec.random[1].0, "opt.name");
        assert_eq!(spec.samples, Some(4));
        assert_eq!(spec.sampling_seed, 7);
        assert!(spec.steps[0].shell);
        assert_eq!(spec.slurm.partition.as_deref(), Some("debug"));
        assert_eq!(spec.slurm.sbatch_args, ["--qos=low"]);
        assert_eq!(spec.max_parallel, Some(2));
    }

    #[test]
    fn flags_build_the_same_kind_of_spec() {
        let mut spec = SweepSpec {
            study: Some("s".into()),
            ..SweepSpec::default()
        };
        spec.add_grid_flag("lr=1e-4,5e-5,1e-5").unwrap();
        spec.add_random_flag("wd=loguniform:1e-6,1e-2").unwrap();
        spec.samples = Some(2);
        spec.set_seeds_flag("1,2");
        spec.set_command(vec![
            "echo".into(),
            "{lr}".into(),
            "{wd}".into(),
            "{seed}".into(),
        ]);
        spec.check().unwrap();
        assert_eq!(spec.grid[0].1.len(), 3);
        assert!(spec.add_grid_flag("nokey").is_err());
        assert!(spec.add_random_flag("x=normal:0,1").is_err());
    }

    #[test]
    fn spec_errors_say_what_to_fix() {
        let err = |text: &str| {
            SweepSpec::from_toml(text, "s.toml")
                .and_then(|s| s.check())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("command = \"echo {lrr}\"\n[grid]\nlr = [1]")
                .contains("unknown placeholder {lrr} in command (did you mean {lr}?)")
        );
        assert!(err("command = \"echo\"\n[grid]\nlr = []").contains("has no values"));
        assert!(
            err("command = \"echo\"\n[random]\nsamples = 2\nlr = { loguniform = [0, 1] }")
                .contains("positive lower bound")
        );
        assert!(
            err("command = \"echo\"\n[random]\nlr = { uniform = [0, 1] }").contains("sample count")
        );
        assert!(err("[grid]\nlr = [1]").contains("no command"));
        assert!(err("commnd = \"x\"").contains("unknown key \"commnd\""));
        assert!(err("command = [").contains("s.toml"));
    }

    #[test]
    fn steps_may_refer_to_earlier_steps_only() {
        let ok = "[[steps]]\nname = \"train\"\ncommand = \"echo\"\n[[steps]]\nname = \"eval\"\ncommand = \"ls {steps.train.dir}\"";
        SweepSpec::from_toml(ok, "p.toml").unwrap().check().unwrap();
        let bad = "[[steps]]\nname = \"train\"\ncommand = \"ls {steps.eval.dir}\"\n[[steps]]\nname = \"eval\"\ncommand = \"echo\"";
        let e = SweepSpec::from_toml(bad, "p.toml")
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("step \"train\"'s command"), "{e}");
    }
}
