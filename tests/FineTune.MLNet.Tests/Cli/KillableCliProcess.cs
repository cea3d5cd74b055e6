using System.Diagnostics;
using System.Text;

namespace FineTune.MLNet.Tests.Cli;

/// <summary>
/// The real <c>finetune</c> tool as a child process (like <see cref="CliRunner"/>) that a test can SIGKILL at any moment.
/// Standard error is read as it comes (the progress bar redraws one line with <c>\r</c>), and <see cref="StepReported"/>
/// fires on the reading thread for each optimizer step the bar reports. libtorch runs on one intra-op thread
/// (<c>OMP_NUM_THREADS=1</c>): the same reduction order in every process, and no spinning worker threads on a
/// shared machine.
/// </summary>
internal sealed class KillableCliProcess : IDisposable
{
    private const string StepMark = "] step ";
    private readonly Process process;
    private readonly StringBuilder stderr = new(), stdout = new();
    private readonly Task pumps;
    private int stepsReported, killed;

    private KillableCliProcess(Process process, Action<KillableCliProcess, int>? onStep)
    {
        this.process = process;
        StepReported = onStep;
        pumps = Task.WhenAll(Pump(process.StandardError, stderr, countSteps: true), Pump(process.StandardOutput, stdout, countSteps: false));
    }

    /// <summary>Called with this process and the number of steps it has reported so far (1, 2, ...).</summary>
    private Action<KillableCliProcess, int>? StepReported { get; }

    /// <summary>True once <see cref="Kill"/> sent SIGKILL.</summary>
    public bool WasKilled => Volatile.Read(ref killed) == 1;

    public static KillableCliProcess Start(string[] args, Action<KillableCliProcess, int>? onStep = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "finetune.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["MKL_NUM_THREADS"] = "1";
        return new KillableCliProcess(Process.Start(psi)!, onStep);
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

    private async Task Pump(StreamReader reader, StringBuilder into, bool countSteps)
    {
        var buffer = new char[4096];
        var tail = "";   // the end of the previous chunk, so a mark split across reads is still found
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var chunk = new string(buffer, 0, read);
            lock (into) into.Append(chunk);
            if (!countSteps) continue;
            var text = tail + chunk;
            for (var at = text.IndexOf(StepMark, StringComparison.Ordinal); at >= 0; at = text.IndexOf(StepMark, at + 1, StringComparison.Ordinal))
            {
                if (at + StepMark.Length > tail.Length) StepReported?.Invoke(this, ++stepsReported);
            }
            tail = text.Length > StepMark.Length ? text[^StepMark.Length..] : text;
        }
    }
}
