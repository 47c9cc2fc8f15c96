using Notifications.Api.Apis.Inbox;

namespace Notifications.UnitTests.Api;

public sealed class InboxPositionTests
{
    public static TheoryData<DateTimeOffset, Guid> Positions => new()
    {
        { new DateTimeOffset(2026, 3, 1, 12, 30, 45, TimeSpan.Zero).AddTicks(1234560), Guid.Parse("0198a3c2-1111-7000-8000-00000000beef") },
        { new DateTimeOffset(2026, 3, 1, 14, 30, 45, TimeSpan.FromHours(2)), Guid.Empty },
        { DateTimeOffset.MinValue, Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff") },
        { DateTimeOffset.MaxValue, Guid.Parse("00000000-0000-0000-0000-000000000001") },
    };

    [Theory]
    [MemberData(nameof(Positions))]
    public void Cursor_RoundTripsTheExactPosition(DateTimeOffset createdAt, Guid id)
    {
        var position = new InboxPosition(createdAt, id);

        Assert.True(InboxPosition.TryParseCursor(position.ToCursor(), out var parsed));

        Assert.Equal(createdAt.UtcTicks, parsed.Value.CreatedAt.UtcTicks);
        Assert.Equal(TimeSpan.Zero, parsed.Value.CreatedAt.Offset);
        Assert.Equal(id, parsed.Value.Id);
    }

    [Fact]
    public void Cursor_IsUrlSafeText()
    {
        var cursor = new InboxPosition(DateTimeOffset.UtcNow, Guid.Parse("fbffffff-ffff-ffff-ffff-ffffffffffff")).ToCursor();

        Assert.Matches("^[A-Za-z0-9_-]{34}$", cursor);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-cursor")]
    // Version 2 (unknown), otherwise zeros.
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    // Right length, a character base64url does not have.
    [InlineData("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A")]
    // Standard base64 ('+', '/') is not what the API issues.
    [InlineData("AQ+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    // Version 1 with ticks past DateTimeOffset.MaxValue.
    [InlineData("Af__________AAAAAAAAAAAAAAAAAAAAAA")]
    public void TryParseCursor_AnythingElse_IsRejected(string? cursor)
    {
        Assert.False(InboxPosition.TryParseCursor(cursor, out var position));
        Assert.Null(position);
    }

    [Fact]
    public void CompareTo_OrdersByTimeThenByIdAsPostgresOrdersUuids()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // Postgres compares uuids byte by byte in their text order; .NET's Guid byte layout is little-endian in part.
        var ids = new[]
        {
            "00000001-0000-0000-0000-000000000000", "00000100-0000-0000-0000-000000000000", "01000000-0000-0000-0000-000000000000",
            "ff000000-0000-0000-0000-000000000000", "00000000-0001-0000-0000-000000000000", "00000000-0100-0000-0000-000000000000",
            "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0100-000000000000",
        }.Select(Guid.Parse).ToList();

        var ordered = ids.Select(id => new InboxPosition(at, id)).Order().Select(position => position.Id.ToString("N"));

        Assert.Equal(ids.Select(id => id.ToString("N")).Order(StringComparer.Ordinal), ordered);
        Assert.True(new InboxPosition(at, Guid.Parse("ff000000-0000-0000-0000-000000000000"))
            .CompareTo(new InboxPosition(at.AddTicks(10), Guid.Empty)) < 0);
    }
}
