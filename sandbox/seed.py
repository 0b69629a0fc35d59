"""Deterministic content for the sandbox: the Springfield demo city, and bench workloads.

The same seed always gives the same accounts, posts, ids and times, so tests and
benchmarks are repeatable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sandbox.state import SbAccount, SbComment, SbPost

BASE_TIME = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)

#: demo passwords; `civicwatch demo` writes them to secret files, never into the config
DEMO_PASSWORDS = {
    "parks": "parks-demo-pass-7731",
    "library": "library-demo-pass-2290",
    "police": "police-demo-pass-4418",
}
DEMO_TOTP = {"library": "JBSWY3DPEHPK3PXPJBSWY3DP"}

PARKS_POSTS = [
    "Pool season is over: the Eastside pool closes for the winter on Sunday. Thanks for a great summer!",
    "Leaf pickup starts Monday in zones 1-3. Rake leaves to the curb, not into the street. Schedule: /site/leaf-pickup",
    "Volunteer day at Riverside Park this Saturday 9am-noon. Gloves and coffee provided. Sign up: /site/volunteer",
    "The Maple Street playground is open again after resurfacing. Come play!",
    "Youth basketball registration is open until Dec 1. Fees and forms: /site/youth-sports",
    "Trail 4 is closed for bridge repairs through Nov 30. Use the Creek Loop detour.",
    "Winter lights festival planning meeting, Tuesday 6:30pm at the Community Center, room 2.",
    "Reminder: dogs must be leashed in all parks except the Oak Hill off-leash area.",
    "The ice rink opens December 12, weather permitting. Skate rentals $5.",
    "Thank you to the 140 volunteers who planted 300 trees along the river this fall!",
    "Community garden plots for 2027: applications open Jan 5. Details: /site/gardens",
    "Field 3 at Lincoln Park is closed for reseeding until spring.",
    "Senior walking club meets Wednesdays at 8am at the Riverside pavilion.",
    "Our holiday craft fair is looking for vendors. Apply by Nov 25: /site/craft-fair",
    "Park restrooms at Oak Hill are closed for the season; portable units are available.",
    "Photo contest winners announced! See the gallery: /site/photo-contest",
    "Snow sledding hill at Cedar Park will be groomed after the first 4 inches of snow.",
    "Budget workshop: tell us what parks need most. Survey: /site/parks-survey",
    "The nature center has new hours: Tue-Sat 10am-4pm.",
    "Pickleball courts at Jefferson Park are now lit until 9pm.",
    "Adopt-a-bench program: honor a loved one with a memorial bench. Info: /site/benches",
    "Fall cleanup crews are working on Main Street medians this week.",
    "Swim lessons for winter session: register by Dec 10 at /site/swim",
    "Welcome to the new Springfield Parks & Rec page! Follow for updates on programs and closures.",
]

LIBRARY_POSTS = [
    "Story time is back on Tuesdays at 10:30am in the children's room.",
    "The library will close at 5pm on Wednesday, Nov 26, and stay closed Thursday for Thanksgiving.",
    "New this month: free museum passes you can reserve with your library card. /site/museum-passes",
    "Need help with tax forms? Volunteer tax aides are here Saturdays from February.",
    "Teen gaming night: Friday 6-8pm, snacks included.",
    "The book sale raised $4,210 for the summer reading program. Thank you!",
    "Our catalog will be offline Sunday 6-8am for maintenance.",
    "Author talk with local historian Ruth Adeyemi, Dec 3 at 7pm.",
    "Lost your card? Replace it at any desk; the first replacement is free.",
    "Notary service is available by appointment: /site/notary",
    "Holiday hours: /site/library-hours",
    "The makerspace 3D printers are back in service.",
]

POLICE_POSTS = [
    "Traffic alert: Elm Street between 4th and 6th is closed until 3pm for a water main repair.",
    "Coffee with a Cop: join us Thursday 8-10am at the Main Street Bakery.",
    "Reminder: lock your car and keep valuables out of sight. Most thefts are from unlocked vehicles.",
    "Our annual toy drive starts Dec 1. Drop-off locations: /site/toy-drive",
    "We are hiring dispatchers. Apply by Dec 15: /site/jobs",
    "Halloween safety recap: thanks to everyone who made it a safe night.",
    "In an emergency call 911. For non-emergencies call the station.",
    "The records window is closed Friday for staff training.",
    "Scam warning: we will never ask for payment by gift card over the phone.",
    "Prescription drug take-back box is in the station lobby, open 24/7.",
    "Bike registration event Saturday at the Community Center, 10am-1pm.",
    "Winter parking rules start Dec 1: no street parking 2am-6am during snow emergencies.",
    "Thank you to the Springfield Rotary for donating new radios.",
    "Road closure Saturday for the Turkey Trot 5K: /site/turkey-trot",
    "National Night Out photos are up: /site/night-out",
]

PUBLIC_NAMES = [
    "Maria Gonzalez", "Dave Chen", "Priya Patel", "Tom Becker", "Aisha Johnson", "Kevin O'Brien",
    "Linda Park", "Sam Whitfield", "Grace Liu", "Omar Haddad", "Beth Sullivan", "Carlos Mendez",
]
PUBLIC_COMMENTS = [
    "Thank you for the update!",
    "Will this be posted on the website too?",
    "Great news for the neighborhood.",
    "What time does it start?",
    "Is parking available nearby?",
    "My kids loved this last year.",
    "Thanks to all the staff and volunteers.",
    "Can you share the schedule for next month?",
    "Finally! Been waiting for this.",
    "Is this open to residents of other towns?",
]


@dataclass(frozen=True)
class DemoAccountSpec:
    slug: str
    name: str
    bio: str
    username: str
    staff: tuple[str, ...]
    texts: tuple[str, ...]
    color: str


DEMO_SPECS = (
    DemoAccountSpec(
        "parks", "Springfield Parks & Rec",
        "Official page of the City of Springfield Parks & Recreation Department.",
        "parks@springfield.example", ("Jane Okafor", "Luis Ramos"), tuple(PARKS_POSTS), "#2d6a4f",
    ),
    DemoAccountSpec(
        "library", "Springfield Public Library",
        "Books, programs and free Wi-Fi for everyone. Official page of the Springfield Public Library.",
        "library@springfield.example", ("Ruth Adeyemi",), tuple(LIBRARY_POSTS), "#6a4c93",
    ),
    DemoAccountSpec(
        "police", "Springfield Police Department",
        "Official page of the Springfield Police Department. Not monitored 24/7: in an emergency call 911.",
        "police@springfield.example", ("Sgt. Dana Ortiz", "Officer Ben Hale"), tuple(POLICE_POSTS), "#1d3557",
    ),
)


def demo_accounts() -> tuple[list[SbAccount], int]:
    """The Springfield demo city: three accounts, with a few policy problems planted."""
    rng = random.Random(20261101)
    counter = 0
    accounts: list[SbAccount] = []
    for spec in DEMO_SPECS:
        account = SbAccount(
            slug=spec.slug,
            name=spec.name,
            username=spec.username,
            password=DEMO_PASSWORDS[spec.slug],
            bio=spec.bio,
            links=["/site/", f"/site/{spec.slug}"],
            staff=list(spec.staff),
            totp_secret=DEMO_TOTP.get(spec.slug),
            avatar_color=spec.color,
        )
        count = len(spec.texts)
        for i, text in enumerate(reversed(spec.texts)):
            counter += 1
            when = BASE_TIME - timedelta(hours=7 * (count - i))
            post = SbPost(
                id=f"p{counter}", author=spec.name, text=text, time=when,
                publisher=spec.staff[i % len(spec.staff)],
            )
            for j in range(rng.randrange(0, 3)):
                counter += 1
                post.comments.append(
                    SbComment(
                        id=f"c{counter}", author=rng.choice(PUBLIC_NAMES),
                        text=rng.choice(PUBLIC_COMMENTS), time=when + timedelta(minutes=20 + 15 * j),
                    )
                )
            account.posts.insert(0, post)
        accounts.append(account)
    counter = _plant_demo_problems(accounts, counter)
    return accounts, counter


def _plant_demo_problems(accounts: list[SbAccount], counter: int) -> int:
    """What a supervisor should hear about after the demo's first check."""
    parks, _library, police = accounts
    counter += 1
    parks.posts.insert(0, SbPost(
        id=f"p{counter}", author=parks.name, publisher="Tom Intern", time=BASE_TIME - timedelta(hours=2),
        text="Who's ready for the weekend?? Our summer intern signing off, see ya!",
    ))
    counter += 1
    parks.posts[1].comments.append(SbComment(
        id=f"c{counter}", author="Dave Chen", time=BASE_TIME - timedelta(hours=1),
        text="My neighbor at 412 Oak Street keeps dumping leaves in the road, call him at 555-867-5309",
    ))
    police.public_posting = True
    counter += 1
    police.posts.insert(0, SbPost(
        id=f"p{counter}", author="Sam Whitfield", visitor=True, time=BASE_TIME - timedelta(hours=3),
        text="Vote for Mike Carter for sheriff on Tuesday! He will fix this town.",
    ))
    return counter


_LOREM = (
    "The city council reviewed the proposal at its regular meeting and asked staff to return "
    "with cost estimates, a schedule for community outreach and options for phasing the work "
    "over two budget years. Residents can read the staff report and submit comments online."
)


def bench_accounts(accounts: int, posts: int, comments: int = 3) -> tuple[list[SbAccount], int]:
    """``accounts`` pages of ``posts`` posts each, ~100 KB of HTML with images and comments."""
    rng = random.Random(4242)
    counter = 0
    out: list[SbAccount] = []
    for a in range(accounts):
        slug = f"bench{a:03d}"
        account = SbAccount(
            slug=slug, name=f"Springfield Department {a:03d}", username=f"{slug}@springfield.example",
            password=f"{slug}-pass", bio="Benchmark account.", links=["/site/"],
            staff=["Bench Staff"], avatar_color=f"#{rng.randrange(0x1000000):06x}",
        )
        for p in range(posts):
            counter += 1
            post = SbPost(
                id=f"p{counter}", author=account.name, publisher="Bench Staff",
                time=BASE_TIME - timedelta(hours=p), text=f"Update {p}: {_LOREM} " * 3,
                links=[f"/site/page{(a * posts + p) % 200}"], image=f"photo{p % 12}",
            )
            for c in range(comments):
                counter += 1
                post.comments.append(SbComment(
                    id=f"c{counter}", author=rng.choice(PUBLIC_NAMES),
                    text=rng.choice(PUBLIC_COMMENTS), time=post.time + timedelta(minutes=c + 1),
                ))
            account.posts.append(post)
        out.append(account)
    return out, counter


def seed(name: str, accounts: int = 50, posts: int = 40) -> tuple[list[SbAccount], int]:
    """Seed by name: ``demo`` or ``bench``."""
    if name == "demo":
        return demo_accounts()
    if name == "bench":
        return bench_accounts(accounts, posts)
    raise ValueError(f"unknown seed {name!r}; use 'demo' or 'bench'")
