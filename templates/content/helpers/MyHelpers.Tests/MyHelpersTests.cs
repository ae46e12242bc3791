namespace MyHelpers.Tests;

/// <summary>The helpers as a transform calls them (plain static calls).</summary>
public sealed class MyHelpersTests
{
    [Theory]
    [InlineData("Hello, World!", "hello-world")]
    [InlineData("Crème brûlée 2", "cr-me-br-l-e-2")]
    [InlineData("  Already-a-slug  ", "already-a-slug")]
    [InlineData("", "")]
    public void tSlug_makes_url_slugs(string input, string expected) => Assert.Equal(expected, MyHelpers.tSlug(input));

    [Fact]
    public void tSlug_keeps_null() => Assert.Null(MyHelpers.tSlug(null));
}
