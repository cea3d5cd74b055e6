using System.Diagnostics;
using System.Text.Json;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// The PyTorch eager peer (<c>benchmarks/peer/torch_peer.py</c>, issue 11 §4): the same scenario shapes, float32 and
/// thread count in a Python torch, started as a child process like ours. Found through <c>FINETUNE_PEER_PYTHON</c>,
/// else <c>/usr/bin/python3</c>, else <c>python3</c> on the PATH; absent when none of them imports torch.
/// </summary>
internal sealed class TorchPeer
{
    /// <summary>The scenarios the script implements.</summary>
    public static readonly IReadOnlyList<string> Scenarios = ["train-full", "train-lora", "inference", "sft-lora"];

    /// <summary>Debian's python3-torch links the reference (netlib) BLAS by default; OpenBLAS here, when installed, is used instead.</summary>
    private const string OpenBlasDir = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

    private readonly string _python;
    private readonly string _script;

    private TorchPeer(string python, string script, string version, string blas)
    {
        _python = python;
        _script = script;
        Version = version;
        Blas = blas;
    }

    public string Version { get; }

    /// <summary>Which BLAS the peer's torch uses for its matmuls.</summary>
    public string Blas { get; }

    /// <summary>The peer, or null with the reason it cannot run (printed by the caller).</summary>
    public static (TorchPeer? Peer, string Reason) Find()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "peer", "torch_peer.py");
        if (!File.Exists(script)) return (null, $"the peer script is missing ({script})");
        var candidates = new[] { Environment.GetEnvironmentVariable("FINETUNE_PEER_PYTHON"), "/usr/bin/python3", "python3" }
            .Where(c => !string.IsNullOrEmpty(c)).Distinct();
        var tried = new List<string>();
        foreach (var python in candidates)
        {
            var (ok, output) = TryRun(python!, ["-c", "import torch; print(torch.__version__)"], threads: 1);
            if (ok) return (new TorchPeer(python!, script, output.Trim(), UsesOpenBlas ? "OpenBLAS (" + OpenBlasDir + ")" : "its default BLAS"), "");
            tried.Add($"{python}: {output.Trim().Split('\n').LastOrDefault()}");
        }
        return (null, "no Python with torch found (" + string.Join("; ", tried) + "); set FINETUNE_PEER_PYTHON or `apt-get install python3-torch`");
    }

    /// <summary>Runs one scenario of the script with <paramref name="threads"/> torch threads.</summary>
    public ScenarioResult Run(string scenario, int threads, bool quick)
    {
        List<string> args = [_script, "--scenario", scenario, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (quick) args.Add("--quick");
        var (ok, output) = TryRun(_python, args, threads);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(ChildProcessRunner.ResultPrefix, StringComparison.Ordinal));
        if (!ok || line is null) throw new InvalidOperationException($"The PyTorch peer of '{scenario}' failed. Its output:\n{output}");
        return JsonSerializer.Deserialize<ScenarioResult>(line[ChildProcessRunner.ResultPrefix.Length..])
            ?? throw new InvalidDataException($"The PyTorch peer of '{scenario}' printed an empty result.");
    }

    private static bool UsesOpenBlas => File.Exists(Path.Combine(OpenBlasDir, "libblas.so.3"));

    private static (bool Ok, string Output) TryRun(string python, IEnumerable<string> args, int threads)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        var n = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["OMP_NUM_THREADS"] = n;
        info.Environment["OPENBLAS_NUM_THREADS"] = n;
        if (UsesOpenBlas) info.Environment["LD_LIBRARY_PATH"] = OpenBlasDir + (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") is { Length: > 0 } p ? ":" + p : "");
        try
        {
            using var process = Process.Start(info);
            if (process is null) return (false, "could not start");
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, e.Message);
        }
    }
}
