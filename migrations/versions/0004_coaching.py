"""Gender Coach Programme: pairings, goals and reviews, sessions, private notes, action items.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coaching_pairings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('commander_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('basic', 'advanced', name='coaching_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('planned_sessions', sa.Integer(), nullable=False),
    sa.Column('min_sessions', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'completed', 'ended', name='pairing_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ended_reason', sa.String(length=500), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('coach_id <> commander_id', name=op.f('ck_coaching_pairings_two_people')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_coaching_pairings_dates_in_order')),
    sa.CheckConstraint('min_sessions BETWEEN 1 AND planned_sessions', name=op.f('ck_coaching_pairings_min_sessions_range')),
    sa.CheckConstraint('planned_sessions BETWEEN 1 AND 24', name=op.f('ck_coaching_pairings_planned_sessions_range')),
    sa.ForeignKeyConstraint(['coach_id'], ['users.id'], name=op.f('fk_coaching_pairings_coach_id_users')),
    sa.ForeignKeyConstraint(['commander_id'], ['users.id'], name=op.f('fk_coaching_pairings_commander_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_coaching_pairings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_pairings')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coaching_pairings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_pairings_coach_id'), ['coach_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_pairings_commander_id'), ['commander_id'], unique=False)
        batch_op.create_index('uq_coaching_pairings_active_commander', ['commander_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('coaching_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('indicator', sa.String(length=500), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'achieved', 'not_achieved', name='goal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pairing_id'], ['coaching_pairings.id'], name=op.f('fk_coaching_goals_pairing_id_coaching_pairings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_goals')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coaching_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_goals_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('coaching_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('format', sa.Enum('in_person', 'online', name='coaching_format', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'cancelled', name='coaching_session_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('topics', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('duration_minutes BETWEEN 15 AND 480', name=op.f('ck_coaching_sessions_duration_range')),
    sa.ForeignKeyConstraint(['pairing_id'], ['coaching_pairings.id'], name=op.f('fk_coaching_sessions_pairing_id_coaching_pairings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_sessions')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_sessions_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_sessions_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('coaching_action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('owner', sa.Enum('commander', 'coach', name='action_owner', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', name='action_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['coaching_sessions.id'], name=op.f('fk_coaching_action_items_session_id_coaching_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_action_items')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coaching_action_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_action_items_session_id'), ['session_id'], unique=False)

    op.create_table('coaching_goal_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'achieved', 'not_achieved', name='goal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['coaching_goals.id'], name=op.f('fk_coaching_goal_reviews_goal_id_coaching_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_coaching_goal_reviews_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_goal_reviews')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('coaching_goal_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_goal_reviews_goal_id'), ['goal_id'], unique=False)

    op.create_table('coaching_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_coaching_notes_author_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['coaching_sessions.id'], name=op.f('fk_coaching_notes_session_id_coaching_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_notes')),
    sa.UniqueConstraint('session_id', 'author_id', name=op.f('uq_coaching_notes_session_id_author_id')),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('coaching_notes')
    with op.batch_alter_table('coaching_goal_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_goal_reviews_goal_id'))

    op.drop_table('coaching_goal_reviews')
    with op.batch_alter_table('coaching_action_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_action_items_session_id'))

    op.drop_table('coaching_action_items')
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_sessions_pairing_id'))
        batch_op.drop_index(batch_op.f('ix_coaching_sessions_date'))

    op.drop_table('coaching_sessions')
    with op.batch_alter_table('coaching_goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_goals_pairing_id'))

    op.drop_table('coaching_goals')
    with op.batch_alter_table('coaching_pairings', schema=None) as batch_op:
        batch_op.drop_index('uq_coaching_pairings_active_commander', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_coaching_pairings_commander_id'))
        batch_op.drop_index(batch_op.f('ix_coaching_pairings_coach_id'))

    op.drop_table('coaching_pairings')
