"""People and their roles: administrators create accounts, a mission's owners give people a
role on it, its coordinators assign applications to reviewers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import AwareDatetime, BaseModel, EmailStr, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import AdminDep, SessionDep, get_mission, requires
from api.schemas import NO_NUL
from missionflow.domain.people import Action, Role
from missionflow.runtime.db import transaction
from missionflow.runtime.models import Application
from missionflow.runtime.people import (
    Membership,
    Person,
    ReviewAssignment,
    new_person,
    normal_email,
)

router = APIRouter(tags=["people"])

MIN_PASSWORD = 12


class NewPerson(BaseModel):
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    password: str = Field(min_length=MIN_PASSWORD, max_length=1000)
    is_admin: bool = False


class PersonView(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    created_at: AwareDatetime


class NewMember(BaseModel):
    email: EmailStr = Field(description="The person's account email.")
    role: Role


class MemberView(BaseModel):
    person_id: uuid.UUID
    email: str
    display_name: str
    role: Role


class NewAssignment(BaseModel):
    application_id: uuid.UUID
    person_id: uuid.UUID = Field(description="A reviewer of this mission.")


class AssignmentView(BaseModel):
    application_id: uuid.UUID
    person_id: uuid.UUID
    created_at: AwareDatetime


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonView,
    summary="Create a person's account (administrators)",
    responses={409: {"description": "A person has this email"}},
)
async def create_person(body: NewPerson, _admin: AdminDep, request: Request) -> PersonView:
    row = new_person(
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        is_admin=body.is_admin,
    )
    try:
        async with transaction(request.app.state.sessions) as session:
            session.add(row)
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, "A person has this email.") from None
    return PersonView.model_validate(row, from_attributes=True)


@router.get("/people", response_model=list[PersonView], summary="Every person (administrators)")
async def list_people(_admin: AdminDep, session: SessionDep) -> list[PersonView]:
    rows = await session.exec(select(Person).order_by(col(Person.email)))
    return [PersonView.model_validate(row, from_attributes=True) for row in rows.all()]


@router.get(
    "/missions/{mission_id}/members",
    response_model=list[MemberView],
    dependencies=[Depends(requires(Action.READ))],
    summary="The mission's people and their roles",
)
async def list_members(mission_id: str, session: SessionDep) -> list[MemberView]:
    await get_mission(mission_id, session)
    rows = await session.exec(
        select(Membership, Person)
        .join(Person, Membership.person_id == Person.id)  # type: ignore[arg-type]
        .where(Membership.mission_id == mission_id)
        .order_by(col(Person.email))
    )
    return [_member(membership, person) for membership, person in rows.all()]


@router.post(
    "/missions/{mission_id}/members",
    response_model=MemberView,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(requires(Action.MANAGE_PEOPLE))],
    summary="Give a person a role on the mission (or change it)",
    responses={404: {"description": "No such mission, or no person with this email"}},
)
async def add_member(
    mission_id: str, body: NewMember, session: SessionDep, request: Request
) -> MemberView:
    await get_mission(mission_id, session)
    email = normal_email(body.email)
    person = (await session.exec(select(Person).where(Person.email == email))).first()
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No person has this email.")
    async with transaction(request.app.state.sessions) as writer:
        row = await _membership(writer, mission_id, person.id)
        if row is None:
            row = Membership(mission_id=mission_id, person_id=person.id, role=body.role.value)
            writer.add(row)
        row.role = body.role.value
    return _member(row, person)


@router.delete(
    "/missions/{mission_id}/members/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(requires(Action.MANAGE_PEOPLE))],
    summary="Take a person's role on the mission away",
)
async def remove_member(mission_id: str, person_id: uuid.UUID, request: Request) -> Response:
    async with transaction(request.app.state.sessions) as session:
        row = await _membership(session, mission_id, person_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "This person has no role here.")
        await session.delete(row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/missions/{mission_id}/review-assignments",
    response_model=AssignmentView,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(requires(Action.STEER))],
    summary="Assign an application to a reviewer of the mission",
    responses={404: {"description": "No such application, or the person is not a reviewer"}},
)
async def assign_review(
    mission_id: str, body: NewAssignment, session: SessionDep, request: Request
) -> AssignmentView:
    application = await session.get(Application, body.application_id)
    if application is None or application.mission_id != mission_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application on this mission.")
    role = (
        await session.exec(
            select(Membership.role).where(
                Membership.mission_id == mission_id, Membership.person_id == body.person_id
            )
        )
    ).first()
    if role != Role.REVIEWER:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This person is not a reviewer here.")
    row = ReviewAssignment(
        mission_id=mission_id,
        application_id=body.application_id,
        person_id=body.person_id,
        created_at=datetime.now(UTC),
    )
    try:
        async with transaction(request.app.state.sessions) as writer:
            writer.add(row)
    except IntegrityError:
        pass  # assigned already: the same answer
    return AssignmentView.model_validate(row, from_attributes=True)


def _member(membership: Membership, person: Person) -> MemberView:
    return MemberView(
        person_id=person.id,
        email=person.email,
        display_name=person.display_name,
        role=Role(membership.role),
    )


async def _membership(
    session: AsyncSession, mission_id: str, person_id: uuid.UUID
) -> Membership | None:
    query = select(Membership).where(
        Membership.mission_id == mission_id, Membership.person_id == person_id
    )
    return (await session.exec(query)).first()
