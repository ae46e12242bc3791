using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace PluginHost.Scripting;

/// <summary>
/// Makes loops in a script interruptible without slowing the event path: every loop body (while, do, for, foreach)
/// and every goto label gets <c>if (__PluginHostGuard.Tripped) __PluginHostGuard.Check(line);</c> — one read of a
/// static flag — and the script gets a small nested <c>__PluginHostGuard</c> class appended. The
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

    /// <summary>Inserts checks into the loops of a parsed script (that has no syntax errors).</summary>
    public static LoopGuard Create(SyntaxTree tree)
    {
        var original = tree.GetText();
        var root = tree.GetRoot();
        // position → text; closers ("}") sort before openers at the same position: they end the statement before it.
        var inserts = new List<(int Position, int Order, string Text)>();
        var order = 0;
        int LineOf(SyntaxNode node) => node.GetLocation().GetMappedLineSpan().StartLinePosition.Line + 1;
        string Check(int line) => $"if ({ClassName}.Tripped) {ClassName}.Check({line});";

        void GuardBody(SyntaxNode loop, StatementSyntax body)
        {
            var check = Check(LineOf(loop));
            if (body is BlockSyntax block)
                inserts.Add((block.OpenBraceToken.Span.End, 1_000_000 + order++, check));
            else
            {
                inserts.Add((body.SpanStart, 1_000_000 + order++, "{" + check));
                inserts.Add((body.Span.End, order++, "}"));
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
                    inserts.Add((l.ColonToken.Span.End, 1_000_000 + order++, Check(LineOf(l))));
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
                         "public static System.Action<int>? OnTrip; " +
                         "public static void Check(int line) { var a = OnTrip; if (a != null) a(line); } }\n";
        changes.Add(new TextChange(new TextSpan(original.Length, 0), guardClass));
        return new LoopGuard(original.WithChanges(changes), recorded, original.Length);
    }

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
