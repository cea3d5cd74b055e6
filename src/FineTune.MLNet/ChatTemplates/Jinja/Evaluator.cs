using System.Text;

namespace FineTune.MLNet.ChatTemplates.Jinja;

/// <summary>Walks the AST and writes the rendered text; expressions follow Python/Jinja value semantics.</summary>
internal sealed class Evaluator
{
    private readonly RenderBudget _budget;

    private Evaluator(RenderBudget budget) => _budget = budget;

    public static string Render(IReadOnlyList<Node> body, Scope scope, RenderBudget budget)
    {
        using var _ = budget.Enter();
        var output = new StringBuilder();
        var signal = new Evaluator(budget).Execute(body, scope, output);
        if (signal != LoopSignal.None)
        {
            throw new ChatTemplateException($"'{{% {signal.ToString().ToLowerInvariant()} %}}' outside of a for loop");
        }

        return output.ToString();
    }

    private LoopSignal Execute(IReadOnlyList<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (Node node in nodes)
        {
            _budget.Tick();
            LoopSignal signal;
            try
            {
                signal = ExecuteNode(node, scope, output);
            }
            catch (ChatTemplateException ex) when (ex.Line is null && !ex.IsRaisedByTemplate)
            {
                throw new ChatTemplateException("Chat template render error: " + ex.Message, node.Line, node.Column);
            }

            if (signal != LoopSignal.None)
            {
                return signal;
            }
        }

        return LoopSignal.None;
    }

    private LoopSignal ExecuteNode(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case TextNode text:
                Append(output, text.Text);
                return LoopSignal.None;
            case OutputNode print:
                Append(output, PyOps.ToStr(Eval(print.Value, scope)));
                return LoopSignal.None;
            case IfNode ifNode:
                foreach (IfBranch branch in ifNode.Branches)
                {
                    if (PyOps.IsTruthy(Eval(branch.Condition, scope)))
                    {
                        return Execute(branch.Body, scope, output);
                    }
                }

                return ifNode.Else is null ? LoopSignal.None : Execute(ifNode.Else, scope, output);
            case ForNode forNode:
                ExecuteFor(forNode, scope, output);
                return LoopSignal.None;
            case SetNode set:
                ExecuteSet(set, scope);
                return LoopSignal.None;
            case SetBlockNode setBlock:
                var captured = new StringBuilder();
                Execute(setBlock.Body, scope, captured);
                scope.Set(setBlock.Target, captured.ToString());
                return LoopSignal.None;
            case MacroNode macro:
                scope.Set(macro.Name, MakeMacro(macro, scope));
                return LoopSignal.None;
            case BreakNode:
                return LoopSignal.Break;
            case ContinueNode:
                return LoopSignal.Continue;
            case GenerationNode generation:
                return Execute(generation.Body, scope, output);
            default:
                throw new ChatTemplateException($"unsupported node {node.GetType().Name}");
        }
    }

    private void Append(StringBuilder output, string text)
    {
        _budget.CheckChars((double)output.Length + text.Length, "the rendered output");
        output.Append(text);
    }

    private void ExecuteFor(ForNode node, Scope scope, StringBuilder output)
    {
        var items = PyOps.Iterate(Eval(node.Iterable, scope));
        if (node.Filter is not null)
        {
            items = items.Where(item =>
            {
                _budget.Iteration();
                var filterScope = new Scope(scope);
                BindTargets(filterScope, node.Targets, item);
                return PyOps.IsTruthy(Eval(node.Filter, filterScope));
            }).ToList();
        }

        if (items.Count == 0)
        {
            if (node.Else is not null)
            {
                Execute(node.Else, new Scope(scope), output);
            }

            return;
        }

        var loop = new LoopInfo(items);
        for (int i = 0; i < items.Count; i++)
        {
            _budget.Iteration();
            var iteration = new Scope(scope);
            BindTargets(iteration, node.Targets, items[i]);
            loop.Index0 = i;
            iteration.Set("loop", loop);
            if (Execute(node.Body, iteration, output) == LoopSignal.Break)
            {
                break;
            }
        }
    }

    private void ExecuteSet(SetNode node, Scope scope)
    {
        object? value = Eval(node.Value, scope);
        if (node.Attribute is not null)
        {
            string name = node.Targets[0];
            if (!scope.TryGet(name, out object? target) || target is not Namespace ns)
            {
                throw new ChatTemplateException($"cannot assign attribute '{node.Attribute}' on '{name}': only namespace() objects can be assigned to");
            }

            ns.Attributes[node.Attribute] = value;
            return;
        }

        BindTargets(scope, node.Targets, value);
    }

    private static void BindTargets(Scope scope, IReadOnlyList<string> targets, object? value)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }

        var parts = PyOps.Iterate(value);
        if (parts.Count != targets.Count)
        {
            throw new ChatTemplateException($"cannot unpack {parts.Count} values into {targets.Count} names ({string.Join(", ", targets)})");
        }

        for (int i = 0; i < targets.Count; i++)
        {
            scope.Set(targets[i], parts[i]);
        }
    }

    private JinjaFunction MakeMacro(MacroNode macro, Scope definitionScope) => new(macro.Name, (args, kwargs) =>
    {
        if (args.Count > macro.Parameters.Count)
        {
            throw new ChatTemplateException($"macro '{macro.Name}' takes {macro.Parameters.Count} arguments, got {args.Count}");
        }

        using var depth = _budget.Call(macro.Name);
        var callScope = new Scope(definitionScope);
        for (int i = 0; i < macro.Parameters.Count; i++)
        {
            MacroParameter parameter = macro.Parameters[i];
            object? value = i < args.Count ? args[i]
                : kwargs.TryGetValue(parameter.Name, out object? named) ? named
                : parameter.Default is not null ? Eval(parameter.Default, callScope)
                : new Undefined($"parameter '{parameter.Name}' was not provided");
            callScope.Set(parameter.Name, value);
        }

        var output = new StringBuilder();
        Execute(macro.Body, callScope, output);
        return output.ToString();
    });

    private object? Eval(Expr expr, Scope scope)
    {
        _budget.Tick();
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return scope.TryGet(name.Name, out object? value) ? value : new Undefined($"'{name.Name}' is undefined");
            case ListExpr list:
                return list.Items.Select(item => Eval(item, scope)).ToList();
            case DictExpr dict:
                var result = new OrderedDictionary<string, object?>();
                foreach (var (keyExpr, valueExpr) in dict.Pairs)
                {
                    object? key = Eval(keyExpr, scope);
                    result[key as string ?? throw new ChatTemplateException($"dictionary keys must be strings, not {PyOps.TypeName(key)}")] =
                        Eval(valueExpr, scope);
                }

                return result;
            case AttributeExpr attribute:
                return Lookup.Attribute(Eval(attribute.Target, scope), attribute.Name);
            case ItemExpr item:
                return Lookup.Item(Eval(item.Target, scope), Eval(item.Key, scope));
            case SliceExpr slice:
                return Lookup.Slice(
                    Eval(slice.Target, scope),
                    slice.Start is null ? null : Eval(slice.Start, scope),
                    slice.Stop is null ? null : Eval(slice.Stop, scope),
                    slice.Step is null ? null : Eval(slice.Step, scope));
            case CallExpr call:
                return EvalCall(call, scope);
            case FilterExpr filter:
                return Filters.Apply(filter.Name, Eval(filter.Value, scope), EvalArgs(filter.Args, scope), EvalKwargs(filter.Kwargs, scope));
            case TestExpr test:
                return JinjaTests.Apply(test.Name, Eval(test.Value, scope), EvalArgs(test.Args, scope)) != test.Negated;
            case BinaryExpr binary:
                return PyOps.Binary(binary.Op, Eval(binary.Left, scope), Eval(binary.Right, scope));
            case UnaryExpr unary:
                object? operand = Eval(unary.Operand, scope);
                return unary.Op switch
                {
                    "not" => !PyOps.IsTruthy(operand),
                    "-" => PyOps.Negate(operand),
                    _ => PyOps.IsNumber(operand) ? operand : throw new ChatTemplateException($"bad operand type for unary +: '{PyOps.TypeName(operand)}'"),
                };
            case LogicalExpr logical:
                object? left = Eval(logical.Left, scope);
                bool leftTrue = PyOps.IsTruthy(left);
                return logical.Op == "and"
                    ? (leftTrue ? Eval(logical.Right, scope) : left)
                    : (leftTrue ? left : Eval(logical.Right, scope));
            case CompareExpr compare:
                return EvalCompare(compare, scope);
            case ConditionalExpr conditional:
                return PyOps.IsTruthy(Eval(conditional.Condition, scope))
                    ? Eval(conditional.Then, scope)
                    : conditional.Else is null ? new Undefined("the inline if-expression had no else branch") : Eval(conditional.Else, scope);
            default:
                throw new ChatTemplateException($"unsupported expression {expr.GetType().Name}");
        }
    }

    private object? EvalCall(CallExpr call, Scope scope)
    {
        var args = EvalArgs(call.Args, scope);
        var kwargs = EvalKwargs(call.Kwargs, scope);
        if (call.Callee is AttributeExpr method)
        {
            object? target = Eval(method.Target, scope);
            if (target is string or List<object?> or OrderedDictionary<string, object?>)
            {
                return Methods.Call(target, method.Name, args, kwargs);
            }

            return Invoke(Lookup.Attribute(target, method.Name), args, kwargs);
        }

        return Invoke(Eval(call.Callee, scope), args, kwargs);
    }

    private static object? Invoke(object? callee, List<object?> args, Dictionary<string, object?> kwargs) => callee switch
    {
        JinjaFunction function => function.Invoke(args, kwargs),
        Undefined u => throw new ChatTemplateException(u.Hint),
        _ => throw new ChatTemplateException($"'{PyOps.TypeName(callee)}' object is not callable"),
    };

    private bool EvalCompare(CompareExpr compare, Scope scope)
    {
        object? left = Eval(compare.First, scope);
        foreach (var (op, rightExpr) in compare.Rest)
        {
            object? right = Eval(rightExpr, scope);
            bool ok = op switch
            {
                "==" => PyOps.Equals(left, right),
                "!=" => !PyOps.Equals(left, right),
                "<" => PyOps.Compare(left, right, op) < 0,
                "<=" => PyOps.Compare(left, right, op) <= 0,
                ">" => PyOps.Compare(left, right, op) > 0,
                ">=" => PyOps.Compare(left, right, op) >= 0,
                "in" => PyOps.Contains(right, left),
                "notin" => !PyOps.Contains(right, left),
                _ => throw new ChatTemplateException($"unknown comparison '{op}'"),
            };
            if (!ok)
            {
                return false;
            }

            left = right;
        }

        return true;
    }

    private List<object?> EvalArgs(IReadOnlyList<Expr> args, Scope scope) => args.Select(a => Eval(a, scope)).ToList();

    private Dictionary<string, object?> EvalKwargs(IReadOnlyList<(string Name, Expr Value)> kwargs, Scope scope) =>
        kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope));
}
