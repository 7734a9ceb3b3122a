"""Curriculum registry (tracks, modules, revisions) and learner progress.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracks')),
    sa.UniqueConstraint('slug', name=op.f('uq_tracks_slug'))
    )
    op.create_table('modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=100), nullable=False),
    sa.Column('estimated_minutes', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_modules_track_id_tracks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modules')),
    sa.UniqueConstraint('slug', name=op.f('uq_modules_slug'))
    )
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_modules_track_id'), ['track_id'], unique=False)

    op.create_table('module_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_revisions_module_id_modules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_revisions')),
    sa.UniqueConstraint('module_id', 'content_hash', name=op.f('uq_module_revisions_module_id_content_hash')),
    sa.UniqueConstraint('module_id', 'number', name=op.f('uq_module_revisions_module_id_number'))
    )
    op.create_table('module_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_visits_module_id_modules')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_module_visits_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_visits')),
    sa.UniqueConstraint('user_id', 'module_id', name=op.f('uq_module_visits_user_id_module_id'))
    )
    op.create_table('quiz_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_quiz_attempts_module_id_modules')),
    sa.ForeignKeyConstraint(['revision_id'], ['module_revisions.id'], name=op.f('fk_quiz_attempts_revision_id_module_revisions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiz_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts')),
    sa.UniqueConstraint('user_id', 'nonce', name=op.f('uq_quiz_attempts_user_id_nonce'))
    )
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempts_module_id'), ['module_id'], unique=False)
        batch_op.create_index('ix_quiz_attempts_user_module', ['user_id', 'module_id'], unique=False)

    op.create_table('track_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('pre', 'post', name='assessment_phase', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_assessments_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_track_assessments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_track_assessments')),
    sa.UniqueConstraint('user_id', 'track_id', 'phase', name=op.f('uq_track_assessments_user_id_track_id_phase'))
    )
    with op.batch_alter_table('track_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_assessments_track_id'), ['track_id'], unique=False)

    op.create_table('module_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempts.id'], name=op.f('fk_module_completions_attempt_id_quiz_attempts')),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_completions_module_id_modules')),
    sa.ForeignKeyConstraint(['revision_id'], ['module_revisions.id'], name=op.f('fk_module_completions_revision_id_module_revisions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_module_completions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_completions')),
    sa.UniqueConstraint('user_id', 'module_id', name=op.f('uq_module_completions_user_id_module_id'))
    )
    with op.batch_alter_table('module_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_completions_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_module_completions_module_id'), ['module_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('module_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_completions_module_id'))
        batch_op.drop_index(batch_op.f('ix_module_completions_completed_at'))

    op.drop_table('module_completions')
    with op.batch_alter_table('track_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_track_assessments_track_id'))

    op.drop_table('track_assessments')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempts_user_module')
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_module_id'))

    op.drop_table('quiz_attempts')
    op.drop_table('module_visits')
    op.drop_table('module_revisions')
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modules_track_id'))

    op.drop_table('modules')
    op.drop_table('tracks')
