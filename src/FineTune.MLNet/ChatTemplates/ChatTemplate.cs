using FineTune.MLNet.ChatTemplates.Jinja;

namespace FineTune.MLNet.ChatTemplates;

/// <summary>
/// A Hugging Face chat template (the Jinja <c>chat_template</c> of <c>tokenizer_config.json</c> or
/// <c>chat_template.jinja</c>), rendered the way transformers' <c>apply_chat_template</c> does: Jinja with
/// <c>trim_blocks=True</c>, <c>lstrip_blocks=True</c>, loop controls (<c>break</c>/<c>continue</c>), the
/// <c>{% generation %}</c> tag, <c>raise_exception</c>, <c>strftime_now</c> and a <c>tojson</c> filter that is
/// Python's <c>json.dumps(ensure_ascii=False)</c>.
/// </summary>
/// <remarks>
/// This is a Jinja subset interpreter: statements <c>if/elif/else</c>, <c>for</c> (with <c>loop.*</c>, an
/// <c>if</c> filter and <c>else</c>), <c>set</c> (also <c>namespace()</c> attributes and block set), <c>macro</c>;
/// Python-like expressions, filters, tests and string/dict methods. Unsupported constructs (<c>include</c>,
/// <c>extends</c>, <c>call</c> blocks, recursive loops) fail at <see cref="Parse"/> with their line and column.
/// Checked against hand-written expected prompts for Qwen2.5, Llama 2, Llama 3, Mistral, Zephyr and TinyLlama.
/// </remarks>
public sealed class ChatTemplate
{
    private readonly IReadOnlyList<Node> _body;

    private ChatTemplate(string source, IReadOnlyList<Node> body, ChatTemplateLimits limits)
    {
        Source = source;
        _body = body;
        Limits = limits;
    }

    /// <summary>The bounds every <see cref="Render"/> of this template runs under.</summary>
    public ChatTemplateLimits Limits { get; }

    /// <summary>The template text this instance was parsed from.</summary>
    public string Source { get; }

    /// <summary>The clock behind <c>strftime_now</c>; replaceable so tests can pin the date.</summary>
    internal Func<DateTime> Clock { get; set; } = () => DateTime.Now;

    /// <summary>
    /// Parses <paramref name="source"/>; syntax errors throw <see cref="ChatTemplateException"/> naming the line and
    /// column. <paramref name="limits"/> (default <see cref="ChatTemplateLimits.Default"/>) bound the source's nesting
    /// and every later render.
    /// </summary>
    public static ChatTemplate Parse(string source, ChatTemplateLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        limits ??= ChatTemplateLimits.Default;
        limits.Validate();
        return new ChatTemplate(source, Parser.Parse(source, limits.MaxDepth), limits);
    }

    /// <summary>
    /// Renders the conversation. Template variables are <c>messages</c> (a list of <c>{role, content}</c>),
    /// <c>add_generation_prompt</c>, <c>bos_token</c> and <c>eos_token</c> (left undefined when null),
    /// <c>tools</c> and <c>documents</c> (None unless given in <paramref name="extra"/>), and every entry of
    /// <paramref name="extra"/> (strings, numbers, bools, null, lists, dictionaries or <c>JsonElement</c>s),
    /// which override the tokens as transformers' keyword arguments do.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template failed, went past one of <see cref="Limits"/> (the message
    /// names it), or called <c>raise_exception</c>.</exception>
    public string Render(
        IReadOnlyList<ChatMessage> messages,
        bool addGenerationPrompt,
        string? bosToken,
        string? eosToken,
        IReadOnlyDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var budget = new RenderBudget(Limits);
        var scope = new Scope(Globals.Create(Clock));
        scope.Set("messages", messages.Select((m, i) => (object?)ValueConverter.MessageToDict(
            m ?? throw new ArgumentException($"messages[{i}] is null", nameof(messages)))).ToList());
        scope.Set("add_generation_prompt", addGenerationPrompt);
        scope.Set("tools", null);
        scope.Set("documents", null);
        if (bosToken is not null)
        {
            scope.Set("bos_token", bosToken);
        }

        if (eosToken is not null)
        {
            scope.Set("eos_token", eosToken);
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, object?>())
        {
            if (name is "messages" or "add_generation_prompt")
            {
                throw new ArgumentException($"extra['{name}'] clashes with the '{name}' parameter; pass it there instead", nameof(extra));
            }

            scope.Set(name, ValueConverter.FromDotNet(value, name));
        }

        return Evaluator.Render(_body, scope, budget);
    }
}
