using System.Diagnostics;
using System.Text.RegularExpressions;
using FineTune.MLNet.Tests.TestSupport;
using SkiaSharp;
using Xunit.Sdk;

namespace FineTune.MLNet.Tests.Reporting;

/// <summary>What the browser found for one &lt;img&gt; of a page: loaded (<c>complete</c>) and its decoded size (0 × 0 when broken).</summary>
internal sealed record LoadedImage(bool Complete, int NaturalWidth, int NaturalHeight);

/// <summary>
/// Debian's <c>chromium</c> run headless on a page: which images loaded (a copy of the page with a small script that
/// writes each image's <c>complete</c> and <c>naturalWidth</c>/<c>naturalHeight</c> into the DOM, read back with
/// <c>--dump-dom</c>), and a screenshot. Missing Chromium is a failure that says how to install it, not a skip.
/// </summary>
internal static partial class HeadlessChromium
{
    private const string ProbeId = "image-probe";

    private const string ProbeScript = """
        <script>
        window.addEventListener('load', function () {
          var images = Array.prototype.slice.call(document.images);
          var out = document.createElement('pre');
          out.id = 'image-probe';
          out.textContent = images.map(function (i) { return 'IMG ' + i.complete + ' ' + i.naturalWidth + ' ' + i.naturalHeight; }).join('\n');
          document.body.appendChild(out);
        });
        </script>
        """;

    /// <summary>The chromium executable: <c>$CHROMIUM</c>, else <c>chromium</c> or <c>chromium-browser</c> on the PATH.</summary>
    public static string Executable()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } given && File.Exists(given)) return given;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in new[] { "chromium", "chromium-browser" })
        {
            foreach (var dir in path)
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new XunitException("Chromium is not installed: the run-report browser test renders report.html in Debian's 'chromium' package. "
                                 + "Run scripts/setup.sh (it installs chromium and fonts-dejavu-core; CI does this through .ci/run).");
    }

    /// <summary>Opens <paramref name="htmlPath"/> (through a probing copy beside it) and returns what loaded, one entry per &lt;img&gt; in page order.</summary>
    public static IReadOnlyList<LoadedImage> LoadImages(string htmlPath)
    {
        var html = File.ReadAllText(htmlPath);
        var end = html.LastIndexOf("</body>", StringComparison.Ordinal);
        if (end < 0) throw new XunitException($"{htmlPath} has no </body>.");
        var probe = Path.Combine(Path.GetDirectoryName(htmlPath)!, "probe-" + Guid.NewGuid().ToString("N")[..8] + ".html");
        File.WriteAllText(probe, html[..end] + ProbeScript + html[end..]);
        try
        {
            var (code, stdout, stderr) = Run("--dump-dom", "--virtual-time-budget=10000", new Uri(probe).AbsoluteUri);
            if (code != 0) throw new XunitException($"chromium --dump-dom exited {code}:\n{Tail(stderr)}");
            var match = ProbeOutput().Match(stdout);
            if (!match.Success) throw new XunitException($"chromium's DOM has no <pre id=\"{ProbeId}\"> (the load event never fired?):\n{Tail(stdout)}\n{Tail(stderr)}");
            return match.Groups[1].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
            {
                var parts = line.Split(' ');
                if (parts.Length != 4 || parts[0] != "IMG") throw new XunitException($"unexpected probe line '{line}'");
                return new LoadedImage(parts[1] == "true", int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture));
            }).ToList();
        }
        finally
        {
            File.Delete(probe);
        }
    }

    /// <summary>A PNG screenshot of <paramref name="htmlPath"/> at <paramref name="width"/> × <paramref name="height"/>, decoded.</summary>
    public static SKBitmap Screenshot(string htmlPath, string pngPath, int width, int height)
    {
        var (code, _, stderr) = Run("--hide-scrollbars", $"--window-size={width},{height}", "--virtual-time-budget=10000", $"--screenshot={pngPath}", new Uri(htmlPath).AbsoluteUri);
        if (code != 0 || !File.Exists(pngPath)) throw new XunitException($"chromium --screenshot exited {code}, file written: {File.Exists(pngPath)}:\n{Tail(stderr)}");
        return SKBitmap.Decode(pngPath) ?? throw new XunitException($"{pngPath} is not a PNG SkiaSharp can decode.");
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var profile = TestTempRoot.NewFolder("chromium-profile");
        var psi = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", $"--user-data-dir={profile}" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new XunitException("chromium did not finish in 3 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    [GeneratedRegex("<pre id=\"" + ProbeId + "\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ProbeOutput();
}
