using System.Diagnostics;
using System.Text;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// The real <c>finetune</c> tool as a child process (like <see cref="CliRunner"/>) that a test can SIGKILL at any moment.
/// Standard error is read as it comes, and the hold callback fires on the reading thread when the tool says it holds at
/// the point a test chose (<see cref="WriteHoldVariable"/>, <see cref="StepHoldVariable"/>; see the CLI's
/// <c>FaultInjection</c>), so a test kills on what the process reports, not after a guessed delay. libtorch runs on one
/// intra-op thread (<c>OMP_NUM_THREADS=1</c>): the same reduction order in every process, and no spinning worker threads
/// on a shared machine.
/// </summary>
internal sealed class KillableCliProcess : IDisposable
{
    /// <summary>Holds the N-th checkpoint write after a file: <c>N:FILE</c>.</summary>
    public const string WriteHoldVariable = "FINETUNE_HOLD_IN_CHECKPOINT_WRITE";
    /// <summary>Holds the K-th optimizer step after its backward pass: <c>K</c>.</summary>
    public const string StepHoldVariable = "FINETUNE_HOLD_IN_STEP";
    private const string HoldMark = "fault injection: holding";
    private readonly Process process;
    private readonly StringBuilder stderr = new(), stdout = new();
    private readonly Action<KillableCliProcess>? holdReached;
    private readonly Task pumps;
    private int killed;

    private KillableCliProcess(Process process, Action<KillableCliProcess>? onHold)
    {
        this.process = process;
        holdReached = onHold;
        pumps = Task.WhenAll(Pump(process.StandardError, stderr, scan: true), Pump(process.StandardOutput, stdout, scan: false));
    }

    /// <summary>True once <see cref="Kill"/> sent SIGKILL.</summary>
    public bool WasKilled => Volatile.Read(ref killed) == 1;

    /// <param name="onHold">Called when the process holds (set a hold variable in <paramref name="environment"/>).</param>
    public static KillableCliProcess Start(string[] args, Action<KillableCliProcess>? onHold = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "finetune.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["MKL_NUM_THREADS"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        return new KillableCliProcess(Process.Start(psi)!, onHold);
    }
    /// <summary>SIGKILL (Process.Kill on Unix): no handler, no flush, no finally block runs in the child.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref killed, 1) == 1) return;
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited: the caller sees exit code 0 and counts no kill.
        }
    }

    public (int ExitCode, string Stdout, string Stderr) WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"finetune did not finish in {timeout}:\n{Text(stderr)}");
        }
        pumps.Wait(TimeSpan.FromSeconds(10));
        return (process.ExitCode, Text(stdout), Text(stderr));
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    private static string Text(StringBuilder b)
    {
        lock (b) return b.ToString();
    }

    private async Task Pump(StreamReader reader, StringBuilder into, bool scan)
    {
        var buffer = new char[4096];
        var tail = "";   // the end of the previous chunk, so a mark split across reads is still found
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var chunk = new string(buffer, 0, read);
            lock (into) into.Append(chunk);
            if (!scan) continue;
            var text = tail + chunk;
            var at = text.IndexOf(HoldMark, StringComparison.Ordinal);
            if (at >= 0 && at + HoldMark.Length > tail.Length) holdReached?.Invoke(this);
            tail = text.Length > HoldMark.Length ? text[^HoldMark.Length..] : text;
        }
    }
}
