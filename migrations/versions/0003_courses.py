"""Courses: sessions, trainers, modules, enrolments, attendance, roster imports, notices, trainer profiles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('country_id', sa.Integer(), nullable=False),
    sa.Column('host_institution_id', sa.Integer(), nullable=True),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('online_link', sa.String(length=500), nullable=True),
    sa.Column('mode', sa.Enum('in_person', 'online', 'blended', name='course_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('enrolment_mode', sa.Enum('trainer_only', 'open_with_approval', name='enrolment_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'in_progress', 'completed', 'cancelled', name='course_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attendance_threshold', sa.Integer(), nullable=False),
    sa.Column('require_modules', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('calendar_nonce', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('attendance_threshold BETWEEN 0 AND 100', name=op.f('ck_courses_threshold_percent')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_courses_capacity_positive')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_courses_dates_in_order')),
    sa.ForeignKeyConstraint(['country_id'], ['countries.id'], name=op.f('fk_courses_country_id_countries')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_courses_created_by_id_users')),
    sa.ForeignKeyConstraint(['host_institution_id'], ['institutions.id'], name=op.f('fk_courses_host_institution_id_institutions')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_courses_track_id_tracks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_country_id'), ['country_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_track_id'), ['track_id'], unique=False)

    op.create_table('trainer_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('topics', sa.String(length=1000), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trainer_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_trainer_profiles'))
    )
    op.create_table('course_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_modules_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_course_modules_module_id_modules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_modules')),
    sa.UniqueConstraint('course_id', 'module_id', name=op.f('uq_course_modules_course_id_module_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('course_modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_modules_module_id'), ['module_id'], unique=False)

    op.create_table('course_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_course_sessions_times_in_order')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_sessions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_id'], ['users.id'], name=op.f('fk_course_sessions_trainer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_sessions')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_sessions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_sessions_date'), ['date'], unique=False)
        batch_op.create_index('ix_course_sessions_trainer_date', ['trainer_id', 'date'], unique=False)

    op.create_table('course_trainers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_trainers_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_trainers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_trainers')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_trainers_course_id_user_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('course_trainers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_trainers_user_id'), ['user_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'enrolled', 'waitlisted', 'withdrawn', 'declined', name='enrolment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('override_completed', sa.Boolean(), nullable=True),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('override_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_enrolments_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['override_by_id'], ['users.id'], name=op.f('fk_enrolments_override_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrolments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_enrolments_course_id_user_id'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index('ix_enrolments_user_status', ['user_id', 'status'], unique=False)

    op.create_table('roster_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('rows', sa.Text(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_roster_imports_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_roster_imports_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports'))
    )
    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_imports_course_id'), ['course_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mark', sa.Enum('present', 'absent', 'excused', name='attendance_mark', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_attendance_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_attendance_session_id_course_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendance_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_attendance_session_id_user_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_user_id'), ['user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_notifications_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_notifications_session_id_course_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_nonce', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('calendar_nonce')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_user_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_imports_course_id'))

    op.drop_table('roster_imports')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolments_user_status')
        batch_op.drop_index(batch_op.f('ix_enrolments_completed_at'))

    op.drop_table('enrolments')
    with op.batch_alter_table('course_trainers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_trainers_user_id'))

    op.drop_table('course_trainers')
    with op.batch_alter_table('course_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_course_sessions_trainer_date')
        batch_op.drop_index(batch_op.f('ix_course_sessions_date'))
        batch_op.drop_index(batch_op.f('ix_course_sessions_course_id'))

    op.drop_table('course_sessions')
    with op.batch_alter_table('course_modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_modules_module_id'))

    op.drop_table('course_modules')
    op.drop_table('trainer_profiles')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_track_id'))
        batch_op.drop_index(batch_op.f('ix_courses_country_id'))

    op.drop_table('courses')
