using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace PluginHost.Scripting;

/// <summary>
/// Makes loops and recursion in a script interruptible without slowing the event path: every loop body (while, do,
/// for, foreach) and every goto label gets <c>if (__PluginHostGuard.Tripped) __PluginHostGuard.Check(line);</c>, and
/// the body of every method (finalizers excepted), local function and lambda starts with <c>if (__PluginHostGuard.Tripped ||
/// !RuntimeHelpers.TryEnsureSufficientExecutionStack()) __PluginHostGuard.Enter(line);</c> — one read of a static flag
/// each, plus a look at the stack pointer on entries — and the script gets a small nested <c>__PluginHostGuard</c> class
/// appended. Recursion that would overflow the thread's stack throws <see cref="InsufficientExecutionStackException"/>. An
/// expression body (<c>=&gt; expr</c>) becomes a block around it (<c>{check; return /*=&gt;*/ expr;}</c>); property and
/// indexer accessors with a body are guarded like methods; lambdas converted to expression trees are left as written. The
/// <see cref="TransformWatchdog"/> raises the flag when an event runs past its time limit; the check then throws
/// <see cref="TransformTimeoutException"/> inside the script, so the pipeline's on_error policy applies.
/// <para>The checks are inserted as text without line breaks, so every line keeps its number; the insertions are
/// recorded so compiler positions map back to the exact line and column of the file as written.</para>
/// </summary>
internal sealed class LoopGuard
{
    public const string ClassName = "__PluginHostGuard";

    private readonly List<(int Position, int Length)> _insertions;
    private readonly int _originalLength;

    private LoopGuard(SourceText text, List<(int, int)> insertions, int originalLength)
    {
        Text = text;
        _insertions = insertions;
        _originalLength = originalLength;
    }

    /// <summary>The script with checks inserted (the original text when it has no loops).</summary>
    public SourceText Text { get; }

    /// <summary>True when checks were inserted (and the guard class appended).</summary>
    public bool HasGuard => _insertions.Count > 0;

    /// <summary>Inserts checks into the loops and function bodies of a parsed script (that has no syntax errors).</summary>
    /// <param name="tree">The script as written.</param>
    /// <param name="model">A semantic model of <paramref name="tree"/>, asked only for lambdas with an expression body
    /// (whether they return a value, or are expression trees); made on first use.</param>
    public static LoopGuard Create(SyntaxTree tree, Func<SemanticModel>? model = null)
    {
        var original = tree.GetText();
        var root = tree.GetRoot();
        // position → text; closers ("}") sort before openers at the same position: they end the statement before it.
        var inserts = new List<(int Position, int Order, string Text)>();
        var order = 0;
        int LineOf(SyntaxNode node) => node.GetLocation().GetMappedLineSpan().StartLinePosition.Line + 1;
        string Check(int line) => $"if ({ClassName}.Tripped) {ClassName}.Check({line});";
        // Entries also ask whether the thread's stack has room left: unbounded recursion then throws an ordinary
        // exception (on_error applies) instead of overflowing the stack, which ends the process.
        string Enter(int line) => $"if ({ClassName}.Tripped || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) {ClassName}.Enter({line});";
        SemanticModel? semantic = null;
        SemanticModel? Model() => semantic ??= model?.Invoke();
        // Closers that meet at one position come innermost first (later in document order).
        void Opener(int position, string text) => inserts.Add((position, 1_000_000 + order++, text));
        void Closer(int position, string text) => inserts.Add((position, -order++, text));

        void GuardFunction(SyntaxNode function, BlockSyntax? block, ArrowExpressionClauseSyntax? arrow, SyntaxToken semicolon, bool returnsValue)
        {
            var check = Enter(LineOf(function));
            if (block != null)
                Opener(block.OpenBraceToken.Span.End, check);
            else if (arrow != null && !semicolon.IsMissing)
            {
                // "=> expr;" → "{check; return /*=>*/ expr;}": the arrow is commented out, nothing is removed.
                var value = returnsValue && arrow.Expression is not ThrowExpressionSyntax;
                Opener(arrow.ArrowToken.SpanStart, "{" + check + (value ? " return " : " ") + "/*");
                Opener(arrow.ArrowToken.Span.End, "*/");
                Closer(semicolon.Span.End, "}");
            }
        }

        // "T X => expr;" → "T X {get{check; return /*=>*/ expr;}}": a getter block needs the accessor around it.
        void GuardGetter(SyntaxNode member, ArrowExpressionClauseSyntax arrow, SyntaxToken semicolon)
        {
            if (semicolon.IsMissing) return;
            var throws = arrow.Expression is ThrowExpressionSyntax;
            Opener(arrow.ArrowToken.SpanStart, "{get{" + Enter(LineOf(member)) + (throws ? " " : " return ") + "/*");
            Opener(arrow.ArrowToken.Span.End, "*/");
            Closer(semicolon.Span.End, "}}");
        }

        void GuardLambda(AnonymousFunctionExpressionSyntax lambda)
        {
            if (lambda.Block is { } block)
            {
                Opener(block.OpenBraceToken.Span.End, Enter(LineOf(lambda)));
                return;
            }
            if (lambda.ExpressionBody is not { } body || Model() is not { } m) return;
            if (m.GetSymbolInfo(lambda).Symbol is not IMethodSymbol symbol) return;
            var converted = m.GetTypeInfo(lambda).ConvertedType;
            if (converted is null || converted.TypeKind != TypeKind.Delegate || symbol.ReturnsByRef || symbol.ReturnsByRefReadonly) return; // expression trees stay expressions
            if (InsideExpressionTree(lambda, m)) return; // a delegate lambda inside an expression tree is part of that tree
            var value = ReturnsValue(symbol.ReturnsVoid, symbol.IsAsync, symbol.ReturnType) && body is not ThrowExpressionSyntax;
            Opener(body.SpanStart, "{" + Enter(LineOf(lambda)) + (value ? " return " : " "));
            Closer(body.Span.End, ";}");
        }

        void GuardBody(SyntaxNode loop, StatementSyntax body)
        {
            var check = Check(LineOf(loop));
            if (body is BlockSyntax block)
                Opener(block.OpenBraceToken.Span.End, check);
            else
            {
                Opener(body.SpanStart, "{" + check);
                Closer(body.Span.End, "}");
            }
        }

        foreach (var node in root.DescendantNodes())
        {
            switch (node)
            {
                case WhileStatementSyntax w: GuardBody(w, w.Statement); break;
                case DoStatementSyntax d: GuardBody(d, d.Statement); break;
                case ForStatementSyntax f: GuardBody(f, f.Statement); break;
                case CommonForEachStatementSyntax fe: GuardBody(fe, fe.Statement); break;
                case LabeledStatementSyntax l:
                    // "L: stmt" → "L: if (…) Check(n); stmt": the label now marks the check, which flows into stmt.
                    Opener(l.ColonToken.Span.End, Check(LineOf(l)));
                    break;
                case MethodDeclarationSyntax m:
                    GuardFunction(m, m.Body, m.ExpressionBody, m.SemicolonToken, ReturnsValue(m.ReturnType, m.Modifiers));
                    break;
                case DestructorDeclarationSyntax:
                    // Finalizers run on the finalizer thread, where a thrown timeout would end the process: left as written.
                    break;
                case BaseMethodDeclarationSyntax other: // constructors, operators, conversions
                    var returns = other is OperatorDeclarationSyntax or ConversionOperatorDeclarationSyntax;
                    GuardFunction(other, other.Body, other.ExpressionBody, other.SemicolonToken, returns);
                    break;
                case AccessorDeclarationSyntax accessor:
                    // get/set/init/add/remove with a body: recursion through a property is recursion too.
                    GuardFunction(accessor, accessor.Body, accessor.ExpressionBody, accessor.SemicolonToken,
                        accessor.Keyword.IsKind(SyntaxKind.GetKeyword));
                    break;
                case PropertyDeclarationSyntax { ExpressionBody: { } arrow } property: // int X => expr;
                    GuardGetter(property, arrow, property.SemicolonToken);
                    break;
                case IndexerDeclarationSyntax { ExpressionBody: { } arrow } indexer: // int this[int i] => expr;
                    GuardGetter(indexer, arrow, indexer.SemicolonToken);
                    break;
                case LocalFunctionStatementSyntax lf:
                    GuardFunction(lf, lf.Body, lf.ExpressionBody, lf.SemicolonToken, ReturnsValue(lf.ReturnType, lf.Modifiers));
                    break;
                case AnonymousFunctionExpressionSyntax lambda:
                    GuardLambda(lambda);
                    break;
            }
        }
        if (inserts.Count == 0) return new LoopGuard(original, [], original.Length);

        var changes = new List<TextChange>();
        var recorded = new List<(int, int)>();
        foreach (var group in inserts.OrderBy(i => i.Position).ThenBy(i => i.Order).GroupBy(i => i.Position))
        {
            var text = string.Concat(group.Select(g => g.Text));
            changes.Add(new TextChange(new TextSpan(group.Key, 0), text));
            recorded.Add((group.Key, text.Length));
        }
        var guardClass = $"\n#nullable enable\npublic static class {ClassName} {{ public static volatile bool Tripped; " +
                         "public static System.Action<int, bool>? OnTrip; " +
                         "public static void Check(int line) { var a = OnTrip; if (a != null) a(line, true); } " +
                         "public static void Enter(int line) { var a = OnTrip; if (a != null) a(line, false); " +
                         "else if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) " +
                         "throw new System.InsufficientExecutionStackException(\"the script recursed too deep (line \" + line + \")\"); } }\n";
        changes.Add(new TextChange(new TextSpan(original.Length, 0), guardClass));
        return new LoopGuard(original.WithChanges(changes), recorded, original.Length);
    }

    /// <summary>
    /// True when a lambda lies inside a lambda converted to an expression tree (<c>q.AsQueryable().Where(x =&gt;
    /// tags.Any(t =&gt; t == x.Tag))</c>), directly or through a query clause: it is then part of that tree, where a block
    /// body is not allowed (CS0834), even though it is itself converted to a delegate type.
    /// </summary>
    private static bool InsideExpressionTree(AnonymousFunctionExpressionSyntax lambda, SemanticModel model)
    {
        for (var node = lambda.Parent; node != null; node = node.Parent)
        {
            switch (node)
            {
                case AnonymousFunctionExpressionSyntax outer:
                    if (model.GetTypeInfo(outer).ConvertedType is not { TypeKind: TypeKind.Delegate }) return true;
                    break;
                case QueryClauseSyntax or SelectOrGroupClauseSyntax or QueryContinuationSyntax:
                    // Query clauses become lambdas with no syntax of their own: ask the operation tree whether they are trees.
                    if (model.GetOperation(lambda) is { } operation && InExpressionTreeOperation(operation)) return true;
                    break;
            }
        }
        return false;
    }

    private static bool InExpressionTreeOperation(Microsoft.CodeAnalysis.IOperation operation)
    {
        for (var op = operation.Parent; op != null; op = op.Parent)
            if (op is Microsoft.CodeAnalysis.Operations.IAnonymousFunctionOperation
                && op.Parent is not Microsoft.CodeAnalysis.Operations.IDelegateCreationOperation { Type.TypeKind: TypeKind.Delegate })
                return true; // a lambda not made into a delegate is an expression tree
        return false;
    }

    /// <summary>Whether an expression body of a method with this declared return type is a returned value.</summary>
    private static bool ReturnsValue(TypeSyntax returnType, SyntaxTokenList modifiers)
    {
        if (returnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }) return false;
        if (!modifiers.Any(SyntaxKind.AsyncKeyword)) return true;
        var name = returnType switch
        {
            IdentifierNameSyntax id => id.Identifier.ValueText,
            QualifiedNameSyntax { Right: IdentifierNameSyntax right } => right.Identifier.ValueText,
            _ => null,
        };
        return name is not ("Task" or "ValueTask"); // async Task/ValueTask: no value; Task<T> is a generic name
    }

    private static bool ReturnsValue(bool returnsVoid, bool isAsync, ITypeSymbol returnType) =>
        !returnsVoid && !(isAsync && returnType is INamedTypeSymbol { IsGenericType: false, Name: "Task" or "ValueTask" });

    /// <summary>True when a position of <see cref="Text"/> lies in code this class inserted (checks or the guard class).</summary>
    public bool IsInserted(int position)
    {
        var shift = 0;
        foreach (var (at, length) in _insertions)
        {
            if (position < at + shift) return false;
            if (position < at + shift + length) return true;
            shift += length;
        }
        return _insertions.Count > 0 && position - shift >= _originalLength;
    }

    /// <summary>Maps a position in <see cref="Text"/> back to the original text (insertions map to where they were made).</summary>
    public int ToOriginal(int position)
    {
        var shift = 0;
        foreach (var (at, length) in _insertions)
        {
            if (position < at + shift) break;
            if (position < at + shift + length) return at;
            shift += length;
        }
        return Math.Min(position - shift, _originalLength);
    }
}
