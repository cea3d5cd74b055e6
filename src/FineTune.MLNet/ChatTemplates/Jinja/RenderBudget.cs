using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>
/// What one render may still spend (<see cref="ChatTemplateLimits"/>): loop iterations, macro depth, string and list
/// sizes (checked before they are allocated), wall time. The render in progress on this thread is
/// <see cref="Current"/>, so the value helpers (<see cref="PyOps"/>, filters, methods) check sizes without threading
/// the budget through every call; outside a render (parsing, tests of the helpers) the defaults apply.
/// </summary>
internal sealed class RenderBudget
{
    [ThreadStatic]
    private static RenderBudget? current;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _iterations;
    private int _callDepth;
    private int _ticks;

    public RenderBudget(ChatTemplateLimits limits) => Limits = limits;

    public ChatTemplateLimits Limits { get; }

    /// <summary>The budget of the render running on this thread (a fresh default one when none is).</summary>
    public static RenderBudget Current => current ?? new RenderBudget(ChatTemplateLimits.Default);

    /// <summary>Makes this the current budget until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        var previous = current;
        current = this;
        return new Scope(previous);
    }

    /// <summary>One loop iteration (or filtered item); also checks the clock.</summary>
    public void Iteration()
    {
        if (++_iterations > Limits.MaxLoopIterations)
            throw new ChatTemplateException($"the template ran more than MaxLoopIterations = {Limits.MaxLoopIterations:N0} loop iterations");
        Tick();
    }

    /// <summary>Checks the clock every 64 calls (and the stack, so deep recursion fails cleanly).</summary>
    public void Tick()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new ChatTemplateException($"the template nests calls or values too deeply (MaxDepth = {Limits.MaxDepth})");
        if ((++_ticks & 63) == 0 && _clock.Elapsed > Limits.MaxDuration)
            throw new ChatTemplateException($"the template ran longer than MaxDuration = {Limits.MaxDuration.TotalSeconds:0.###} s");
    }

    /// <summary>Enters a macro call; dispose the result to leave it.</summary>
    public CallDepth Call(string macro)
    {
        if (++_callDepth > Limits.MaxDepth)
        {
            _callDepth--;
            throw new ChatTemplateException($"macro '{macro}' calls nest deeper than MaxDepth = {Limits.MaxDepth}");
        }
        return new CallDepth(this);
    }

    /// <summary>Refuses a string of <paramref name="chars"/> characters before it is built.</summary>
    public void CheckChars(double chars, string what)
    {
        if (chars > Limits.MaxOutputChars)
            throw new ChatTemplateException($"{what} would be {chars:N0} characters, more than MaxOutputChars = {Limits.MaxOutputChars:N0}");
    }

    /// <summary>Refuses a list of <paramref name="items"/> items before it is built.</summary>
    public void CheckItems(double items, string what)
    {
        if (items > Limits.MaxLoopIterations)
            throw new ChatTemplateException($"{what} would have {items:N0} items, more than MaxLoopIterations = {Limits.MaxLoopIterations:N0}");
    }

    /// <summary>Refuses a value nested deeper than the depth limit (lists in lists, when printed or compared).</summary>
    public void CheckDepth(int depth)
    {
        if (depth > Limits.MaxDepth)
            throw new ChatTemplateException($"a value is nested deeper than MaxDepth = {Limits.MaxDepth}");
    }

    internal readonly struct Scope(RenderBudget? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }

    internal readonly struct CallDepth(RenderBudget budget) : IDisposable
    {
        public void Dispose() => budget._callDepth--;
    }
}
