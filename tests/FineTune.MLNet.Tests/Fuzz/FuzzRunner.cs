using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// Runs a <see cref="FuzzTarget"/>: first every committed regression input (Fixtures/fuzz-regressions/NAME/), then the
/// seeds unchanged (they must parse), then <c>count</c> seeded mutations. Each outcome is counted: accepted, refused
/// with a documented exception whose message names the input, or failed (any other exception, a refusal that does not
/// name the input, or one input running over <see cref="HangSeconds"/>). Failed inputs are saved under
/// <c>$TMPDIR/ftmlnet-fuzz-failures/NAME/</c> to be committed as regression cases.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>Inputs per parser in CI.</summary>
    public const int InputsPerParser = 10_000;

    /// <summary>An input taking this long is reported as a hang (real inputs take well under a millisecond).</summary>
    public const double HangSeconds = 10;

    public static void Run(FuzzTarget target, ITestOutputHelper output, int count = InputsPerParser)
    {
        var regressions = RegressionInputs(target.Name);
        var random = new Random(StableSeed(target.Name));
        var jsonSeeds = target.Seeds.Select(TryParseJson).ToList();
        int accepted = 0, refused = 0, ran = 0;
        var failures = new Dictionary<string, (int Count, string First, List<string> Saved)>(StringComparer.Ordinal);
        int failed = 0;
        double slowest = 0;

        void RunOne(byte[] input, string origin)
        {
            ran++;
            var clock = Stopwatch.StartNew();
            string? failure = null, signature = null;
            try
            {
                target.Parse(input);
                accepted++;
            }
            catch (Exception e) when (target.IsRefusal(e))
            {
                if (e.Message.Contains(target.NamedAs, StringComparison.Ordinal)) refused++;
                else (failure, signature) = ($"{e.GetType().Name} does not name '{target.NamedAs}': {e.Message}", "unnamed " + Signature(e));
            }
            catch (Exception e)
            {
                (failure, signature) = ($"{e.GetType().FullName}: {e.Message}", Signature(e));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            slowest = Math.Max(slowest, seconds);
            if (failure is null && seconds > HangSeconds) (failure, signature) = ($"took {seconds:F1} s (hang?)", "hang");
            if (failure is null) return;
            failed++;
            var entry = failures.TryGetValue(signature!, out var known) ? known : (0, $"[{origin}] {failure}", new List<string>());
            if (entry.Item3.Count < 3) entry.Item3.Add(Save(target.Name, input));
            failures[signature!] = (entry.Item1 + 1, entry.Item2, entry.Item3);
        }

        foreach (var (file, bytes) in regressions) RunOne(bytes, "regression " + file);
        for (int i = 0; i < target.Seeds.Count; i++)
        {
            target.Parse(target.Seeds[i]); // a seed must be valid, or the fuzz would test only the first check
            accepted++;
            ran++;
        }
        for (int i = 0; i < count; i++)
        {
            int s = random.Next(target.Seeds.Count);
            var seed = target.Seeds[s];
            byte[] input;
            if (random.Next(2) == 0 && (target.Mutate is not null || jsonSeeds[s] is not null))
            {
                input = target.Mutate is not null ? target.Mutate(seed, random) : JsonMutator.Mutate(jsonSeeds[s]!, random);
                if (random.Next(4) == 0) input = ByteMutator.Mutate(input, seed, random);
            }
            else
            {
                input = ByteMutator.Mutate(seed, target.Seeds[random.Next(target.Seeds.Count)], random);
            }
            RunOne(input, $"mutation {i}");
        }

        output.WriteLine($"fuzz {target.Name}: {count} mutated inputs + {target.Seeds.Count} seeds + {regressions.Count} regression cases = {ran} run; " +
            $"{accepted} accepted, {refused} refused, {failed} failed; slowest {slowest * 1000:F1} ms");
        var report = failures.Select(f => $"{f.Value.Count} x {f.Key}\n  first: {f.Value.First}\n  saved: {string.Join(" ", f.Value.Saved)}");
        Assert.True(failed == 0, $"{target.Name}: {failed} of {ran} inputs crashed or hung, {failures.Count} distinct:\n{string.Join("\n", report)}");
        Assert.Equal(count + target.Seeds.Count + regressions.Count, accepted + refused);
        Assert.True(refused >= count / 10, $"{target.Name}: only {refused} of {count} mutations were refused; the mutator is not reaching the parser");
    }

    /// <summary>The committed inputs that once failed, by file name.</summary>
    public static List<(string File, byte[] Bytes)> RegressionInputs(string target)
    {
        var dir = CheckpointTestFiles.Fixture("fuzz-regressions", target);
        return Directory.Exists(dir)
            ? [.. Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))]
            : [];
    }

    private static JsonNode? TryParseJson(byte[] seed)
    {
        if (seed.Length == 0 || (seed[0] != '{' && seed[0] != '[')) return null;
        try
        {
            return JsonNode.Parse(seed);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Exception type and the first library frame: one line per distinct crash.</summary>
    private static string Signature(Exception e)
    {
        var frame = (e.StackTrace ?? "").Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith("at FineTune.MLNet.", StringComparison.Ordinal) && !l.StartsWith("at FineTune.MLNet.Tests.", StringComparison.Ordinal));
        return $"{e.GetType().FullName} {frame?.Split(" in ")[0]}";
    }

    private static int StableSeed(string name) => BitConverter.ToInt32(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)), 0);

    private static string Save(string target, byte[] input)
    {
        var dir = Path.Combine(Path.GetTempPath(), "ftmlnet-fuzz-failures", target);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Convert.ToHexString(SHA256.HashData(input))[..16].ToLowerInvariant() + ".bin");
        File.WriteAllBytes(path, input);
        return path;
    }
}
