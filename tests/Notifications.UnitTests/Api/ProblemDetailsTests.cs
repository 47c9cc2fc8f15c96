using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Notifications.Api.Apis;
using Notifications.Api.Problems;

namespace Notifications.UnitTests.Api;

public sealed class ProblemDetailsTests
{
    [Theory]
    [InlineData("$.priority", "priority")]
    [InlineData("$.recipients[2].userId", "recipients[2].userId")]
    [InlineData("$['odd key']", "['odd key']")]
    [InlineData("$", null)]
    [InlineData(null, null)]
    public void FieldName_JsonPath_IsThePathWithoutTheRoot(string? path, string? field)
    {
        Assert.Equal(field, ApiExceptionHandler.FieldName(path));
    }

    [Fact]
    public void MissingRequiredProperties_SystemTextJsonMessage_NamesEachMissingField()
    {
        var exception = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<WithRequiredMembers>("{}", JsonSerializerOptions.Web));

        Assert.Equal(["title", "body"], ApiExceptionHandler.MissingRequiredProperties(exception.Message));
    }

    [Fact]
    public void DescribeBadRequest_WrongTypeInAField_IsAValidationProblemNamingTheField()
    {
        var json = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<WithRequiredMembers>(
            """{ "title": "t", "body": "b", "priority": "high" }""", JsonSerializerOptions.Web));

        var problem = ApiExceptionHandler.DescribeBadRequest(new BadHttpRequestException("Failed to read parameter", json));

        var validation = Assert.IsType<HttpValidationProblemDetails>(problem);
        Assert.Equal(ProblemTypes.Validation, validation.Type);
        Assert.Equal(["priority"], validation.Errors.Keys);
        Assert.DoesNotContain(nameof(WithRequiredMembers), validation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeBadRequest_BodyTooLarge_IsA413WithTheStableType()
    {
        var problem = ApiExceptionHandler.DescribeBadRequest(new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge));

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, problem.Status);
        Assert.Equal(ProblemTypes.PayloadTooLarge, problem.Type);
    }

    [Fact]
    public void DevTokenValidation_EmptySubjectAndRoleWithSpace_NamesBothFields()
    {
        var errors = DevTokenApi.Validate(new DevTokenRequest(" ", ["admin", "two words"], null));

        Assert.Equal(["sub", "roles[1]"], errors.Keys);
    }

    private sealed class WithRequiredMembers
    {
        public required string Title { get; init; }
        public required string Body { get; init; }
        public int Priority { get; init; }
    }
}
