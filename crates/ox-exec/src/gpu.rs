//! NVIDIA GPU sampling through NVML, loaded at run time (`libnvidia-ml.so.1`) so that ox
//! needs no GPU, driver or CUDA to build or run. Everything here degrades to "no GPU": a
//! missing library, a failing call or an unexpected value never fails a run.

use std::ffi::{c_int, c_uint, c_void};

/// One GPU reading for a run's process tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuSample {
    /// Mean utilization (0–100) of the devices the run uses (all devices when the driver
    /// cannot say which processes use which device).
    pub util_percent: f64,
    /// GPU memory used by the run's processes; the devices' used memory when per-process
    /// figures are unavailable.
    pub mem_bytes: u64,
}

/// A source of GPU readings. The real one is [`Nvml`]; tests use scripted doubles.
pub trait GpuProbe: Send {
    /// Reads the GPUs for the processes `pids` (the run's tree). `None`: no GPU reading.
    fn sample(&mut self, pids: &[u32]) -> Option<GpuSample>;
}

/// No GPU: every reading is `None`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoGpu;

impl GpuProbe for NoGpu {
    fn sample(&mut self, _pids: &[u32]) -> Option<GpuSample> {
        None
    }
}

/// A probe created on first use, so that loading the driver library happens on the sampler
/// thread and never delays the start or end of a run.
pub struct LazyGpu<F: FnOnce() -> Box<dyn GpuProbe> + Send> {
    factory: Option<F>,
    probe: Option<Box<dyn GpuProbe>>,
}

impl<F: FnOnce() -> Box<dyn GpuProbe> + Send> LazyGpu<F> {
    /// Wraps the function that makes the real probe.
    pub fn new(factory: F) -> Self {
        LazyGpu {
            factory: Some(factory),
            probe: None,
        }
    }
}

impl<F: FnOnce() -> Box<dyn GpuProbe> + Send> GpuProbe for LazyGpu<F> {
    fn sample(&mut self, pids: &[u32]) -> Option<GpuSample> {
        if let Some(make) = self.factory.take() {
            self.probe = Some(make());
        }
        self.probe.as_mut()?.sample(pids)
    }
}

/// The GPU probe to use on this machine: NVML when it loads and sees at least one device,
/// else [`NoGpu`].
pub fn detect() -> Box<dyn GpuProbe> {
    match Nvml::load() {
        Some(nvml) => Box::new(nvml),
        None => Box::new(NoGpu),
    }
}

type NvmlReturn = c_int;
type Device = *mut c_void;
const NVML_SUCCESS: NvmlReturn = 0;
const NVML_ERROR_INSUFFICIENT_SIZE: NvmlReturn = 7;
/// `usedGpuMemory` when the driver cannot tell (e.g. on Windows WDDM or in some containers).
const NVML_VALUE_NOT_AVAILABLE: u64 = u64::MAX;

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Utilization {
    gpu: c_uint,
    memory: c_uint,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Memory {
    total: u64,
    free: u64,
    used: u64,
}

/// `nvmlProcessInfo_v2_t`, as `nvmlDeviceGetComputeRunningProcesses_v2` fills it.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct ProcessInfo {
    pid: c_uint,
    used_gpu_memory: u64,
    gpu_instance_id: c_uint,
    compute_instance_id: c_uint,
}

type InitFn = unsafe extern "C" fn() -> NvmlReturn;
type CountFn = unsafe extern "C" fn(*mut c_uint) -> NvmlReturn;
type HandleFn = unsafe extern "C" fn(c_uint, *mut Device) -> NvmlReturn;
type UtilFn = unsafe extern "C" fn(Device, *mut Utilization) -> NvmlReturn;
type MemFn = unsafe extern "C" fn(Device, *mut Memory) -> NvmlReturn;
type ProcsFn = unsafe extern "C" fn(Device, *mut c_uint, *mut ProcessInfo) -> NvmlReturn;

/// NVML, loaded with `libloading`. Holds the library for as long as it lives.
pub struct Nvml {
    devices: Vec<Device>,
    utilization: UtilFn,
    memory: MemFn,
    processes: Option<ProcsFn>,
    shutdown: Option<InitFn>,
    infos: Vec<ProcessInfo>,
    // Declared last so it is dropped after the function pointers' last use.
    _lib: libloading::Library,
}

// SAFETY: NVML is thread-safe (documented in the NVML API reference); device handles are
// opaque pointers that stay valid until nvmlShutdown, which only `Drop` calls.
unsafe impl Send for Nvml {}

impl Nvml {
    /// Loads NVML and lists the devices; `None` when the library, a required symbol or a
    /// device is missing, or initialisation fails.
    pub fn load() -> Option<Nvml> {
        // SAFETY: loading the NVIDIA driver's management library runs its initialisers,
        // which have no preconditions; the symbols are looked up with the signatures of
        // nvml.h (the `_v2` entry points that every driver since 2020 ships).
        unsafe {
            let lib = libloading::Library::new("libnvidia-ml.so.1").ok()?;
            let init: InitFn = *lib.get::<InitFn>(b"nvmlInit_v2\0").ok()?;
            let count: CountFn = *lib.get::<CountFn>(b"nvmlDeviceGetCount_v2\0").ok()?;
            let handle: HandleFn = *lib
                .get::<HandleFn>(b"nvmlDeviceGetHandleByIndex_v2\0")
                .ok()?;
            let utilization: UtilFn =
                *lib.get::<UtilFn>(b"nvmlDeviceGetUtilizationRates\0").ok()?;
            let memory: MemFn = *lib.get::<MemFn>(b"nvmlDeviceGetMemoryInfo\0").ok()?;
            // `_v2` only: `_v3` changed its struct between driver releases without a new name.
            let processes = lib
                .get::<ProcsFn>(b"nvmlDeviceGetComputeRunningProcesses_v2\0")
                .ok()
                .map(|s| *s);
            let shutdown = lib.get::<InitFn>(b"nvmlShutdown\0").ok().map(|s| *s);
            if init() != NVML_SUCCESS {
                return None;
            }
            let mut n: c_uint = 0;
            let mut devices = Vec::new();
            if count(&mut n) == NVML_SUCCESS {
                for i in 0..n {
                    let mut d: Device = std::ptr::null_mut();
                    if handle(i, &mut d) == NVML_SUCCESS && !d.is_null() {
                        devices.push(d);
                    }
                }
            }
            let nvml = Nvml {
                devices,
                utilization,
                memory,
                processes,
                shutdown,
                infos: Vec::new(),
                _lib: lib,
            };
            // Dropping it here shuts NVML down again.
            (!nvml.devices.is_empty()).then_some(nvml)
        }
    }

    /// The memory the processes `pids` use on `device`, or `None` when the driver cannot
    /// list processes or its list cannot be matched to this machine's pids.
    fn tree_memory(&mut self, device: Device, pids: &[u32]) -> Option<u64> {
        let list = self.processes?;
        let mut n: c_uint = 0;
        // SAFETY: a null buffer with count 0 asks for the needed size (nvml.h).
        let first = unsafe { list(device, &mut n, std::ptr::null_mut()) };
        if first == NVML_SUCCESS {
            return Some(0); // No compute process on this device.
        }
        if first != NVML_ERROR_INSUFFICIENT_SIZE {
            return None;
        }
        // Room for processes that start between the two calls.
        let cap = n.saturating_add(8);
        // Twice the room the driver is told about: some drivers' entry points have written
        // a larger struct than the header of their version says (nvitop #79, #226), and a
        // wrong stride must give wrong numbers at worst, never a buffer overrun.
        self.infos.clear();
        self.infos.resize(2 * cap as usize, ProcessInfo::default());
        let mut n = cap;
        // SAFETY: the buffer holds 2 × `cap` entries; the driver is allowed `cap`.
        let rc = unsafe { list(device, &mut n, self.infos.as_mut_ptr()) };
        if rc != NVML_SUCCESS || n > cap {
            return None;
        }
        let filled = self.infos.get(..n as usize)?;
        let entries: Vec<(u32, u64)> = filled.iter().map(|i| (i.pid, i.used_gpu_memory)).collect();
        attribute(&entries, pids, |pid| {
            std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
    }
}

/// The GPU memory of the processes `pids` among a device's `(pid, used bytes)` entries.
/// `None` (use device totals instead) when the figures are unavailable, or when none of the
/// listed pids exists here, which means the driver reports pids of another pid namespace
/// (a container) and matching them would wrongly attribute nothing to the run.
pub fn attribute(
    entries: &[(u32, u64)],
    pids: &[u32],
    pid_visible: impl Fn(u32) -> bool,
) -> Option<u64> {
    if entries.is_empty() {
        return Some(0);
    }
    let ours: Vec<u64> = entries
        .iter()
        .filter(|(pid, _)| pids.contains(pid))
        .map(|&(_, m)| m)
        .collect();
    if ours.is_empty() {
        return entries
            .iter()
            .any(|&(pid, _)| pid_visible(pid))
            .then_some(0);
    }
    let known: Vec<u64> = ours
        .into_iter()
        .filter(|&m| m != NVML_VALUE_NOT_AVAILABLE)
        .collect();
    (!known.is_empty()).then(|| known.iter().fold(0u64, |a, &m| a.saturating_add(m)))
}

impl GpuProbe for Nvml {
    fn sample(&mut self, pids: &[u32]) -> Option<GpuSample> {
        let mut per_device = Vec::with_capacity(self.devices.len());
        for i in 0..self.devices.len() {
            let Some(&device) = self.devices.get(i) else {
                continue;
            };
            let mut util = Utilization::default();
            let mut mem = Memory::default();
            // SAFETY: valid device handle and out-pointers to structs of the nvml.h layout.
            let util_ok = unsafe { (self.utilization)(device, &mut util) } == NVML_SUCCESS;
            // SAFETY: as above.
            let mem_ok = unsafe { (self.memory)(device, &mut mem) } == NVML_SUCCESS;
            let tree_mem = self.tree_memory(device, pids);
            per_device.push(DeviceReading {
                util_percent: util_ok.then_some(f64::from(util.gpu)),
                used_bytes: mem_ok.then_some(mem.used),
                tree_bytes: tree_mem,
            });
        }
        combine(&per_device)
    }
}

impl Drop for Nvml {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown {
            // SAFETY: pairs the successful nvmlInit_v2 of `load`.
            unsafe {
                shutdown();
            }
        }
    }
}

/// One device's raw readings (each may be missing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceReading {
    pub util_percent: Option<f64>,
    pub used_bytes: Option<u64>,
    /// Memory used by the run's processes on this device (`Some(0)`: none of them is on it).
    pub tree_bytes: Option<u64>,
}

/// Turns per-device readings into the run's reading. When per-process memory is known for
/// every device, memory is the run's own and utilization is averaged over the devices the
/// run uses; otherwise both are device totals (the best a shared-GPU-less guess can do).
pub fn combine(devices: &[DeviceReading]) -> Option<GpuSample> {
    if devices.is_empty() {
        return None;
    }
    let per_process = devices.iter().all(|d| d.tree_bytes.is_some());
    let (mem_bytes, used): (u64, Vec<&DeviceReading>) = if per_process {
        let used: Vec<_> = devices
            .iter()
            .filter(|d| d.tree_bytes.unwrap_or(0) > 0)
            .collect();
        (devices.iter().filter_map(|d| d.tree_bytes).sum(), used)
    } else {
        (
            devices.iter().filter_map(|d| d.used_bytes).sum(),
            devices.iter().collect(),
        )
    };
    let utils: Vec<f64> = used.iter().filter_map(|d| d.util_percent).collect();
    let util_percent = if utils.is_empty() {
        0.0
    } else {
        utils.iter().sum::<f64>() / utils.len() as f64
    };
    if devices
        .iter()
        .all(|d| d.util_percent.is_none() && d.used_bytes.is_none() && d.tree_bytes.is_none())
    {
        return None;
    }
    Some(GpuSample {
        util_percent,
        mem_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(util: f64, used: u64, tree: Option<u64>) -> DeviceReading {
        DeviceReading {
            util_percent: Some(util),
            used_bytes: Some(used),
            tree_bytes: tree,
        }
    }

    #[test]
    fn attributes_memory_to_the_run_when_processes_are_known() {
        let s = combine(&[
            dev(90.0, 10 << 30, Some(4 << 30)),
            dev(10.0, 5 << 30, Some(0)),
        ])
        .unwrap();
        assert_eq!(s.mem_bytes, 4 << 30);
        assert_eq!(s.util_percent, 90.0);
    }

    #[test]
    fn falls_back_to_device_totals() {
        let s = combine(&[dev(90.0, 10 << 30, None), dev(10.0, 5 << 30, Some(0))]).unwrap();
        assert_eq!(s.mem_bytes, 15 << 30);
        assert_eq!(s.util_percent, 50.0);
    }

    #[test]
    fn run_on_no_device_uses_nothing() {
        let s = combine(&[dev(70.0, 1 << 30, Some(0))]).unwrap();
        assert_eq!(s.mem_bytes, 0);
        assert_eq!(s.util_percent, 0.0);
        assert_eq!(combine(&[]), None);
        let blank = DeviceReading {
            util_percent: None,
            used_bytes: None,
            tree_bytes: None,
        };
        assert_eq!(combine(&[blank]), None);
    }

    #[test]
    fn process_memory_is_matched_by_pid() {
        let visible = |pid: u32| pid < 1000;
        assert_eq!(attribute(&[], &[5], visible), Some(0));
        assert_eq!(
            attribute(&[(5, 100), (6, 50), (7, 1)], &[5, 6], visible),
            Some(150)
        );
        // Other users' processes only: the run uses nothing on this device.
        assert_eq!(attribute(&[(7, 100)], &[5], visible), Some(0));
        // Pids from another namespace: cannot tell, use device totals.
        assert_eq!(attribute(&[(123_456, 100)], &[5], visible), None);
        // The driver cannot say how much the run's process uses.
        assert_eq!(
            attribute(&[(5, NVML_VALUE_NOT_AVAILABLE)], &[5], visible),
            None
        );
    }

    #[test]
    fn absent_nvml_means_no_gpu() {
        // This machine has no NVIDIA driver; on one that has, detect() must still not fail.
        let mut probe = detect();
        let sample = probe.sample(&[std::process::id()]);
        if Nvml::load().is_none() {
            assert_eq!(sample, None);
        }
    }
}
