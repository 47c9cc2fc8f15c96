namespace Notifications.Domain.Model;

public sealed class DigestSchedule
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string UserId { get; init; }
    public required DigestFrequency Frequency { get; set; }

    /// <summary>Local time of day in <see cref="TimeZone"/>.</summary>
    public required TimeOnly DeliveryTime { get; set; }

    /// <summary>Null for daily; 1–7 (Monday = 1) for weekly; 1–31 for monthly.</summary>
    public short? DeliveryDay { get; set; }

    /// <summary>IANA time zone.</summary>
    public required string TimeZone { get; set; }

    public required int MaxItems { get; set; }

    /// <summary>Categories to include; empty means all.</summary>
    public List<string> IncludedCategories { get; set; } = [];

    public bool Active { get; set; } = true;
    public DateTimeOffset? LastSentAt { get; set; }
    public required DateTimeOffset NextDueAt { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }
}
