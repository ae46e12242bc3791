using PluginHost.Api;
using PluginHost.Control;

namespace PluginHost.Tests.Api;

/// <summary>The one place a control-plane refusal becomes an HTTP status and problem (<see cref="ApiProblemException.From"/>).</summary>
public sealed class ApiProblemMappingTests
{
    [Theory]
    [InlineData(nameof(ControlErrorKind.NotFound), 404)]
    [InlineData(nameof(ControlErrorKind.Conflict), 409)]
    [InlineData(nameof(ControlErrorKind.Invalid), 400)]
    [InlineData(nameof(ControlErrorKind.Unavailable), 502)]
    [InlineData(nameof(ControlErrorKind.Failed), 500)]
    public void Each_kind_of_refusal_has_its_status_code_and_keeps_title_detail_and_fields(string kind, int status)
    {
        var errors = new Dictionary<string, string[]> { ["source.port"] = ["must be 1-65535"] };
        var problem = ApiProblemException.From(new ControlException(Enum.Parse<ControlErrorKind>(kind), "Some title", "the detail", errors));

        Assert.Equal(status, problem.Status);
        Assert.Equal("Some title", problem.Title);
        Assert.Equal("the detail", problem.Detail);
        Assert.Same(errors, problem.Errors);
        Assert.Empty(problem.Extensions);
    }

    [Fact]
    public void An_unknown_pipeline_is_a_404_naming_the_pipeline()
    {
        var problem = ApiProblemException.From(ControlException.NotFound("orders"));

        Assert.Equal(404, problem.Status);
        Assert.Equal("Unknown pipeline", problem.Title);
        Assert.Equal("no pipeline named 'orders'", problem.Detail);
        Assert.Equal("orders", problem.Extensions["pipeline"]);
    }
}
