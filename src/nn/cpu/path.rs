//! Which kernels run on this CPU: 512-bit (AVX-512), 256-bit (AVX2 + FMA) or the portable
//! code. Chosen once per process from what the CPU *is*, not only from what it claims:
//! `avx512f` says nothing about how many 512-bit FMA units a core has, and on a CPU with one
//! (or with 512-bit operations split in two, as on AMD Zen 4) the 256-bit kernels are as
//! fast or faster (`docs/performance.md`). The choice is a fixed rule of the CPU's identity,
//! not a timing, so one machine always takes the same path; the two x86 paths give the same
//! bits anyway (`tests/fast_path.rs`), so a seed's results do not depend on it.
//!
//! `DSM_TUI_KERNELS=avx512|avx2|portable` overrides the rule, for tests and benchmarks; the
//! binary checks it at start-up ([`from_env`]) and refuses a path this CPU cannot run.

use std::sync::OnceLock;

/// The environment variable that overrides the CPU rule.
pub const ENV: &str = "DSM_TUI_KERNELS";

/// A set of kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// 512-bit tiles and SiLU (the 256-bit kernels for the rest).
    Avx512,
    /// The 256-bit kernels throughout.
    Avx2,
    /// ndarray and plain loops, any CPU.
    Portable,
}

impl KernelPath {
    pub const ALL: [KernelPath; 3] = [KernelPath::Avx512, KernelPath::Avx2, KernelPath::Portable];

    /// The name `DSM_TUI_KERNELS` takes and `bench` prints.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Avx512 => "avx512",
            KernelPath::Avx2 => "avx2",
            KernelPath::Portable => "portable",
        }
    }

    /// Whether this CPU (and its operating system) can run the path at all.
    pub fn runs_here(self) -> bool {
        match self {
            KernelPath::Portable => true,
            KernelPath::Avx2 => cpu::has_avx2_fma(),
            KernelPath::Avx512 => cpu::has_avx2_fma() && cpu::has_avx512f(),
        }
    }
}

/// The path every kernel call takes in this process: the override if it is set and valid,
/// else the CPU rule. Decided on first use and kept.
pub fn chosen() -> KernelPath {
    static CHOSEN: OnceLock<KernelPath> = OnceLock::new();
    *CHOSEN.get_or_init(|| from_env().ok().flatten().unwrap_or_else(for_this_cpu))
}

/// The override in `DSM_TUI_KERNELS`, if set: an error names the value and what is accepted
/// here (an unknown name, or a path this CPU cannot run).
pub fn from_env() -> Result<Option<KernelPath>, String> {
    let value = std::env::var_os(ENV);
    parse_override(value.as_ref().map(|v| v.to_string_lossy()).as_deref())
}

/// [`from_env`] on the variable's value (`None`: not set).
fn parse_override(value: Option<&str>) -> Result<Option<KernelPath>, String> {
    let Some(value) = value else { return Ok(None) };
    let runnable: Vec<&str> = KernelPath::ALL.iter().filter(|p| p.runs_here()).map(|p| p.name()).collect();
    match KernelPath::ALL.into_iter().find(|p| p.name() == value) {
        Some(path) if path.runs_here() => Ok(Some(path)),
        Some(_) => Err(format!("{ENV}={value}: this CPU cannot run it (here: {})", runnable.join(", "))),
        None => Err(format!("{ENV}={value:?} is not a kernel path (accepted: {})", runnable.join(", "))),
    }
}

/// The rule: AVX-512 on the cores known to have two 512-bit FMA units (Intel server, AMD Zen 5),
/// AVX2 + FMA on every other CPU that has them, the portable code elsewhere.
pub fn for_this_cpu() -> KernelPath {
    rule(KernelPath::Avx2.runs_here(), KernelPath::Avx512.runs_here() && cpu::has_two_fma512_units())
}

/// [`for_this_cpu`] on what the CPU has: AVX2 + FMA, and AVX-512 with two 512-bit FMA units.
fn rule(avx2_fma: bool, avx512_two_units: bool) -> KernelPath {
    match (avx2_fma, avx512_two_units) {
        (false, _) => KernelPath::Portable,
        (true, true) => KernelPath::Avx512,
        (true, false) => KernelPath::Avx2,
    }
}

/// A one-line description of the CPU for benchmark headers: vendor, family and model as
/// CPUID reports them (a virtual machine may report another model than the silicon's).
pub fn cpu_description() -> String {
    cpu::description()
}

#[cfg(target_arch = "x86_64")]
mod cpu {
    use std::arch::x86_64::__cpuid_count;

    pub fn has_avx2_fma() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// AVX-512 Foundation, with the operating system saving the 512-bit state.
    pub fn has_avx512f() -> bool {
        is_x86_feature_detected!("avx512f")
    }

    struct Identity {
        vendor: [u8; 12],
        family: u32,
        model: u32,
        /// CPUID leaf 7's EDX: bit 23 AVX512-FP16, bit 24 AMX-TILE.
        leaf7_edx: u32,
    }

    fn identity() -> Identity {
        // Leaf 7 is read only when leaf 0 says it exists.
        let (leaf0, leaf1) = (__cpuid_count(0, 0), __cpuid_count(1, 0));
        let leaf7_edx = if leaf0.eax >= 7 { __cpuid_count(7, 0).edx } else { 0 };
        let mut vendor = [0u8; 12];
        for (chunk, reg) in vendor.chunks_exact_mut(4).zip([leaf0.ebx, leaf0.edx, leaf0.ecx]) {
            chunk.copy_from_slice(&reg.to_le_bytes());
        }
        let (family, model) = family_and_model(leaf1.eax);
        Identity { vendor, family, model, leaf7_edx }
    }

    /// The display family and model in CPUID leaf 1's EAX: the extended family is added
    /// only to base family 15, the extended model prefixed only for families 6 and 15.
    fn family_and_model(eax: u32) -> (u32, u32) {
        let base_family = (eax >> 8) & 0xf;
        let family = if base_family == 0xf { base_family + ((eax >> 20) & 0xff) } else { base_family };
        let model = if base_family == 0x6 || base_family == 0xf {
            (((eax >> 16) & 0xf) << 4) | ((eax >> 4) & 0xf)
        } else {
            (eax >> 4) & 0xf
        };
        (family, model)
    }

    /// Cores with two full-width 512-bit FMA pipes. Intel Xeons: Ice Lake-SP (family 6,
    /// models 106 and 108), Sapphire Rapids (143), Emerald Rapids (207), Granite Rapids (173,
    /// 174); and any Intel CPU with AVX512-FP16 or AMX, which only these server cores carry (a
    /// virtual machine may hide the model, as one of ours reports 167, but passes the features
    /// on). Not Skylake-SP/Cascade Lake (85): some of those have one unit, and the model does
    /// not say which. AMD Zen 5 (family 26) where its FPU is 512 bits wide: EPYC 9005 "Turin"
    /// and "Turin Dense" (models 0x00–0x1F; model 2 measured at twice the AVX2 peak,
    /// `docs/performance.md`) and Ryzen 9000 "Granite Ridge" (0x40–0x4F). Not Zen 5's laptop
    /// parts (Strix Point, Krackan Point: 256-bit datapaths), nor unmeasured family-26 models,
    /// nor Zen 4 (family 25), which splits 512-bit operations in two: they keep AVX2.
    pub fn has_two_fma512_units() -> bool {
        two_fma512_units(&identity())
    }

    fn two_fma512_units(id: &Identity) -> bool {
        let avx512_fp16_or_amx = id.leaf7_edx & (1 << 23 | 1 << 24) != 0;
        match &id.vendor {
            b"GenuineIntel" => {
                id.family == 6 && (avx512_fp16_or_amx || matches!(id.model, 106 | 108 | 143 | 173 | 174 | 207))
            }
            b"AuthenticAMD" => id.family == 26 && matches!(id.model, 0x00..=0x1F | 0x40..=0x4F),
            _ => false,
        }
    }

    /// The brand string (CPUID leaves 0x8000_0002–4) with vendor, family and model.
    pub fn description() -> String {
        let id = identity();
        // The brand leaves are read only when 0x8000_0000 lists them.
        let brand: Vec<u8> = if __cpuid_count(0x8000_0000, 0).eax >= 0x8000_0004 {
            (0x8000_0002..=0x8000_0004u32)
                .flat_map(|leaf| {
                    let r = __cpuid_count(leaf, 0);
                    [r.eax, r.ebx, r.ecx, r.edx].into_iter().flat_map(u32::to_le_bytes)
                })
                .take_while(|&b| b != 0)
                .collect()
        } else {
            Vec::new()
        };
        let brand = String::from_utf8_lossy(&brand);
        let vendor = String::from_utf8_lossy(&id.vendor);
        format!("{} ({vendor}, family {}, model {})", brand.trim(), id.family, id.model)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Leaf 1 EAX of real parts (Intel's and AMD's published signatures), decoded.
        #[test]
        fn family_and_model_of_known_signatures() {
            let known = [
                (0x00A1_0F11, (25, 17)), // AMD EPYC 9004, Zen 4 "Genoa"
                (0x00B0_0F21, (26, 2)),  // AMD EPYC 9005, Zen 5 "Turin"
                (0x00B4_0F40, (26, 68)), // AMD Ryzen 9000, Zen 5 "Granite Ridge"
                (0x0008_06F8, (6, 143)), // Intel Xeon, Sapphire Rapids
                (0x000C_06F2, (6, 207)), // Intel Xeon, Emerald Rapids
                (0x0005_0654, (6, 85)),  // Intel Xeon, Skylake-SP
                (0x0010_0F42, (16, 4)),  // AMD family 10h: extended family, no extended model
                (0x0000_0543, (5, 4)),   // Intel Pentium: neither extension
            ];
            for (eax, want) in known {
                assert_eq!(family_and_model(eax), want, "{eax:#010x}");
            }
        }

        /// The rule's table: Intel server cores with two 512-bit FMA units by model or by
        /// AVX512-FP16 / AMX (a virtual machine's odd model); not Skylake-SP; AMD Zen 5 by
        /// model, never Zen 4.
        #[test]
        fn two_fma512_units_by_identity() {
            let id =
                |vendor: &[u8; 12], family, model, leaf7_edx| Identity { vendor: *vendor, family, model, leaf7_edx };
            let (intel, amd) = (b"GenuineIntel", b"AuthenticAMD");
            for model in [106, 108, 143, 173, 174, 207] {
                assert!(two_fma512_units(&id(intel, 6, model, 0)), "Intel model {model}");
                assert!(!two_fma512_units(&id(amd, 6, model, 0)), "the same model number from AMD");
                assert!(!two_fma512_units(&id(intel, 15, model, 0)), "family 15, model {model}");
            }
            assert!(!two_fma512_units(&id(intel, 6, 85, 0)), "Skylake-SP / Cascade Lake");
            assert!(!two_fma512_units(&id(intel, 6, 167, 0)), "model 167 alone");
            assert!(two_fma512_units(&id(intel, 6, 167, 1 << 23)), "model 167 with AVX512-FP16");
            assert!(two_fma512_units(&id(intel, 6, 167, 1 << 24)), "model 167 with AMX");
            assert!(!two_fma512_units(&id(intel, 6, 167, 1 << 22)), "another leaf-7 bit");
            assert!(!two_fma512_units(&id(amd, 25, 17, 1 << 23 | 1 << 24)), "Zen 4, whatever it reports");
            for model in [0x00, 0x02, 0x11, 0x1F, 0x40, 0x44, 0x4F] {
                assert!(two_fma512_units(&id(amd, 26, model, 0)), "Zen 5 server or desktop, model {model:#x}");
                assert!(!two_fma512_units(&id(intel, 26, model, 0)), "the same family and model from Intel");
            }
            for model in [0x20, 0x24, 0x2F, 0x3F, 0x60, 0x70] {
                assert!(!two_fma512_units(&id(amd, 26, model, 0)), "Zen 5 laptop or unmeasured, model {model:#x}");
            }
            assert!(!two_fma512_units(&id(amd, 27, 2, 0)), "a later family is not assumed");
            assert!(!two_fma512_units(&id(b"HygonGenuine", 26, 2, 0)), "another vendor");
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod cpu {
    pub fn has_avx2_fma() -> bool {
        false
    }

    pub fn has_avx512f() -> bool {
        false
    }

    pub fn has_two_fma512_units() -> bool {
        false
    }

    pub fn description() -> String {
        std::env::consts::ARCH.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_takes_the_widest_path_that_pays() {
        assert_eq!(rule(false, false), KernelPath::Portable);
        assert_eq!(rule(false, true), KernelPath::Portable, "no AVX-512 kernels without the AVX2 ones");
        assert_eq!(rule(true, false), KernelPath::Avx2);
        assert_eq!(rule(true, true), KernelPath::Avx512);
    }

    /// What Linux reports of the first CPU in /proc/cpuinfo, by field name: an independent
    /// reading of the CPUID bits this module decodes. `None` (the caller's test skipped, with
    /// a printed note) where there is no such file.
    fn cpuinfo(test: &str) -> Option<impl Fn(&str) -> Option<String>> {
        let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") else {
            eprintln!("SKIPPED {test}: no /proc/cpuinfo");
            return None;
        };
        Some(move |name: &str| {
            text.lines().find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        })
    }

    /// Each path runs here exactly when Linux lists its instructions (with the kernel's view of
    /// what the OS saves).
    #[test]
    fn runs_here_agrees_with_the_flags_linux_reports() {
        let Some(field) = cpuinfo("runs_here_agrees_with_the_flags_linux_reports") else { return };
        let flags = field("flags").unwrap_or_default();
        let flags: Vec<&str> = flags.split_whitespace().collect();
        let has = |f: &str| flags.contains(&f);
        assert!(KernelPath::Portable.runs_here());
        assert_eq!(KernelPath::Avx2.runs_here(), has("avx2") && has("fma"), "{flags:?}");
        assert_eq!(KernelPath::Avx512.runs_here(), has("avx2") && has("fma") && has("avx512f"), "{flags:?}");
    }

    /// The path this CPU takes, worked out again from what Linux reports of it (vendor,
    /// family, model and flags in /proc/cpuinfo): the CPUID reading and the rule together.
    #[test]
    fn this_cpus_path_is_the_rule_applied_to_what_linux_reports() {
        let Some(field) = cpuinfo("this_cpus_path_is_the_rule_applied_to_what_linux_reports") else { return };
        let flags = field("flags").unwrap_or_default();
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        let intel = field("vendor_id").as_deref() == Some("GenuineIntel");
        let (family, model) = (field("cpu family").unwrap_or_default(), field("model").unwrap_or_default());
        let server_model = ["106", "108", "143", "173", "174", "207"].contains(&model.as_str());
        let intel_two_units = intel && family == "6" && (server_model || has("avx512_fp16") || has("amx_tile"));
        let amd = field("vendor_id").as_deref() == Some("AuthenticAMD");
        let zen5_full_width = model.parse::<u32>().is_ok_and(|m| m < 0x20 || (0x40..0x50).contains(&m));
        let two_units = intel_two_units || (amd && family == "26" && zen5_full_width);
        let want = if !(has("avx2") && has("fma")) {
            KernelPath::Portable
        } else if has("avx512f") && two_units {
            KernelPath::Avx512
        } else {
            KernelPath::Avx2
        };
        assert_eq!(for_this_cpu(), want, "{} (flags: {flags})", cpu_description());
    }

    /// What `bench` prints names the brand, vendor, family and model Linux reports.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_description_names_what_linux_reports() {
        let Some(field) = cpuinfo("the_description_names_what_linux_reports") else { return };
        let (brand, vendor) = (field("model name").expect("model name"), field("vendor_id").expect("vendor_id"));
        let (family, model) = (field("cpu family").expect("cpu family"), field("model").expect("model"));
        let text = cpu_description();
        assert_eq!(text, format!("{brand} ({vendor}, family {family}, model {model})"));
    }

    /// Unset means the rule; every name this CPU runs parses to its path; an unknown name or a
    /// path this CPU lacks is an error naming the value and the accepted names.
    #[test]
    fn the_override_parses_names_and_refuses_the_rest() {
        assert_eq!(parse_override(None), Ok(None));
        let runnable: Vec<KernelPath> = KernelPath::ALL.into_iter().filter(|p| p.runs_here()).collect();
        let accepted = runnable.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
        for path in KernelPath::ALL {
            let parsed = parse_override(Some(path.name()));
            if path.runs_here() {
                assert_eq!(parsed, Ok(Some(path)));
            } else {
                let err = parsed.expect_err("a path this CPU lacks");
                assert_eq!(err, format!("{ENV}={}: this CPU cannot run it (here: {accepted})", path.name()));
            }
        }
        for bad in ["AVX2", "sse", ""] {
            let err = parse_override(Some(bad)).expect_err("not a path");
            assert_eq!(err, format!("{ENV}={bad:?} is not a kernel path (accepted: {accepted})"));
        }
    }

    #[test]
    fn names_are_distinct_and_lower_case() {
        let names: Vec<&str> = KernelPath::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["avx512", "avx2", "portable"]);
    }
}
